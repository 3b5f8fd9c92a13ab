#pragma once

// Whether this translation unit is built with AddressSanitizer. GCC defines
// __SANITIZE_ADDRESS__; clang (our sanitizer and fuzz tree) only answers
// __has_feature(address_sanitizer), so checking the GCC macro alone misses it.
namespace sluice::common {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// Timings mean something only in an optimized build without a sanitizer.
#if defined(__OPTIMIZE__)
inline constexpr bool kOptimized = true;
#else
inline constexpr bool kOptimized = false;
#endif
inline constexpr bool kTimingsMeaningful = kOptimized && !kAddressSanitizer;

}  // namespace sluice::common
