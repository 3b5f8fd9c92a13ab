// Static files of the console: the Vite build (base "/console/") in one
// directory. index.html is never cached (it names the current hashed assets);
// hashed files under assets/ are cached for a year. A path with no extension
// that is not a file is a client-side route: index.html answers it. The build
// writes <file>.br and <file>.gz beside each text asset (vite.config.ts); the
// one the browser accepts is sent with Content-Encoding and Vary.
#include <cstdlib>
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

// Whether Accept-Encoding accepts a coding: listed (or "*"), and not with q=0.
bool accepts(const HttpRequest& req, std::string_view coding) {
  const std::string* ae = req.header("accept-encoding");
  if (!ae) return false;
  std::string_view rest = *ae;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    size_t semi = item.find(';');
    std::string_view name = trim(item.substr(0, semi));
    if (name != coding && name != "*") continue;
    if (semi == std::string_view::npos) return true;
    // A weight of 0 refuses the coding.
    std::string_view params = item.substr(semi + 1);
    size_t q = params.find("q=");
    return q == std::string_view::npos || std::strtod(std::string(params.substr(q + 2)).c_str(), nullptr) > 0;
  }
  return false;
}

HttpResponse file_response(const fs::path& p, bool immutable, const HttpRequest& req) {
  HttpResponse r;
  std::error_code ec;
  const fs::path br = p.string() + ".br", gz = p.string() + ".gz";
  const bool has_br = fs::is_regular_file(br, ec), has_gz = fs::is_regular_file(gz, ec);
  const char* encoding = nullptr;
  if (has_br && accepts(req, "br") && read_file(br, r.body))
    encoding = "br";
  else if (has_gz && accepts(req, "gzip") && read_file(gz, r.body))
    encoding = "gzip";
  else if (!read_file(p, r.body))
    return not_found();
  r.content_type = content_type(p);
  r.headers = {{"Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache"},
               {"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "same-origin"}};
  if (encoding) r.headers.emplace_back("Content-Encoding", encoding);
  if (has_br || has_gz) r.headers.emplace_back("Vary", "Accept-Encoding");
  return r;
}

}  // namespace

namespace {
HttpResponse serve_get(const std::string& dir, const HttpRequest& req);
}  // namespace

HttpResponse serve_console_file(const std::string& dir, const HttpRequest& req) {
  HttpResponse r = serve_get(dir, req);
  if (req.method == "HEAD") {  // the headers a GET would get (Content-Length too), no body
    r.head_length = r.body.size();
    r.body.clear();
  }
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
  if (rel.empty() || rel.back() == '/') return file_response(index, false, req);
  fs::path file = fs::weakly_canonical(root / rel, ec);
  // Symlinks must not lead out of the console directory either.
  auto [ri, fi] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  const bool inside = !ec && ri == root.end();
  if (inside && fs::is_regular_file(file, ec))
    return file_response(file, rel.rfind("assets/", 0) == 0, req);
  // No extension in the last segment: a route of the single-page app.
  std::string_view last = std::string_view(rel).substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
  if (last.find('.') == std::string_view::npos) return file_response(index, false, req);
  return not_found();
}
}  // namespace

}  // namespace sluice::api
