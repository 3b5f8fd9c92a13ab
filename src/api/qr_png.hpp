#pragma once
// A QR code as a PNG image (the cloud's QRCodePNG of CreateVirtualMFADevice):
// libqrencode makes the modules, this file writes them as a 1-bit grayscale PNG
// with uncompressed deflate blocks (a few KB; no image library needed).
#include <string>
#include <string_view>

namespace sluice::api {

// The PNG bytes of `text` as a QR code (error correction M, `scale` pixels per
// module, the 4-module quiet zone around it); empty if the text cannot be encoded.
std::string qr_png(std::string_view text, int scale = 4);

}  // namespace sluice::api
