// Static files of the console: the Vite build (base "/console/") in one
// directory. index.html is never cached (it names the current hashed assets);
// hashed files under assets/ are cached for a year. A path with no extension
// that is not a file is a client-side route: index.html answers it.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/console_api.hpp"
#include "api/encoding.hpp"

namespace sluice::api {

namespace {

namespace fs = std::filesystem;

std::string content_type(const fs::path& p) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},              {".png", "image/png"},
      {".jpg", "image/jpeg"},                 {".webp", "image/webp"},
      {".ico", "image/x-icon"},               {".json", "application/json"},
      {".map", "application/json"},           {".woff2", "font/woff2"},
      {".woff", "font/woff"},                 {".txt", "text/plain; charset=utf-8"},
  };
  std::string ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [e, t] : kTypes)
    if (ext == e) return t;
  return "application/octet-stream";
}

HttpResponse not_found() {
  return HttpResponse{404, "application/json", {}, R"({"Code":"NotFound","Message":"No such file in the console."})"};
}

const char* kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice console not built</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>The Sluice console is not built</h1>
<p>This server found no <code>index.html</code> in its console directory. Build the console with
<code>make build</code> (it writes <code>build/console/</code>), or point the server at a built console with
<code>--console-dir</code> or <code>SLUICE_CONSOLE_DIR</code>.</p>
<p>The management API at <code>/</code> works without it.</p>
</body></html>
)";

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

HttpResponse file_response(const fs::path& p, bool immutable) {
  HttpResponse r;
  if (!read_file(p, r.body)) return not_found();
  r.content_type = content_type(p);
  r.headers = {{"Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache"},
               {"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "same-origin"}};
  return r;
}

}  // namespace

namespace {
HttpResponse serve_get(const std::string& dir, const HttpRequest& req);
}  // namespace

HttpResponse serve_console_file(const std::string& dir, const HttpRequest& req) {
  HttpResponse r = serve_get(dir, req);
  if (req.method == "HEAD") r.body.clear();  // the headers a GET would get, no body
  return r;
}

namespace {
HttpResponse serve_get(const std::string& dir, const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD")
    return HttpResponse{405, "application/json", {{"Allow", "GET, HEAD"}},
                        R"({"Code":"MethodNotAllowed","Message":"The console's files are read with GET."})"};
  std::string rel;
  if (!percent_decode(std::string_view(req.path).substr(std::string_view("/console/").size()), rel)) return not_found();
  // Refuse anything that could leave the directory before touching the file system.
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos || (!rel.empty() && rel[0] == '/'))
    return not_found();
  for (size_t start = 0; start <= rel.size();) {
    size_t slash = rel.find('/', start);
    std::string_view seg = std::string_view(rel).substr(start, slash == std::string::npos ? rel.size() - start : slash - start);
    if (seg == ".." || seg == ".") return not_found();
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::path(dir), ec);
  const fs::path index = root / "index.html";
  if (ec || !fs::is_regular_file(index, ec)) {
    HttpResponse r{200, "text/html; charset=utf-8", {{"Cache-Control", "no-cache"}}, kNotBuilt};
    return r;
  }
  if (rel.empty() || rel.back() == '/') return file_response(index, false);
  fs::path file = fs::weakly_canonical(root / rel, ec);
  // Symlinks must not lead out of the console directory either.
  auto [ri, fi] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  const bool inside = !ec && ri == root.end();
  if (inside && fs::is_regular_file(file, ec))
    return file_response(file, rel.rfind("assets/", 0) == 0);
  // No extension in the last segment: a route of the single-page app.
  std::string_view last = std::string_view(rel).substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
  if (last.find('.') == std::string_view::npos) return file_response(index, false);
  return not_found();
}
}  // namespace

}  // namespace sluice::api
