#include "api/qr_png.hpp"

#include <qrencode.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::api {

namespace {

uint32_t crc32(const uint8_t* p, size_t n, uint32_t crc = 0) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xFF));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  put32(out, crc32(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
}

// zlib stream of stored (uncompressed) deflate blocks.
std::string zlib_stored(const std::string& raw) {
  std::string z("\x78\x01", 2);
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z.append(raw, pos, n);
    pos += n;
  } while (pos < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, (b << 16) | a);
  return z;
}

}  // namespace

std::string qr_png(std::string_view text, int scale) {
  const std::string s(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (!qr || scale < 1 || scale > 32) return {};
  constexpr int kQuiet = 4;
  const int modules = qr->width + 2 * kQuiet;
  const uint32_t px = static_cast<uint32_t>(modules * scale);
  const size_t row_bytes = (px + 7) / 8;
  std::string raw;
  raw.reserve((row_bytes + 1) * px);
  for (uint32_t y = 0; y < px; ++y) {
    raw.push_back(0);  // filter: none
    std::vector<uint8_t> row(row_bytes, 0xFF);  // white
    const int my = static_cast<int>(y) / scale - kQuiet;
    for (uint32_t x = 0; x < px; ++x) {
      const int mx = static_cast<int>(x) / scale - kQuiet;
      const bool dark = my >= 0 && mx >= 0 && my < qr->width && mx < qr->width && (qr->data[my * qr->width + mx] & 1);
      if (dark) row[x / 8] &= static_cast<uint8_t>(~(0x80u >> (x % 8)));
    }
    raw.append(reinterpret_cast<const char*>(row.data()), row.size());
  }
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, px);
  put32(ihdr, px);
  ihdr += std::string("\x01\x00\x00\x00\x00", 5);  // 1 bit, grayscale, deflate, no filter method, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", zlib_stored(raw));
  chunk(png, "IEND", "");
  return png;
}

}  // namespace sluice::api
