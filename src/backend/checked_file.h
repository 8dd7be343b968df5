// Files of compiled device kernels (CUDA cubins, OpenCL program binaries) shared between processes: each
// appears by atomic rename and ends with a trailer (magic, size, hash) checked when read, so a file cut
// short or damaged reads as absent and the kernel is compiled again.
#pragma once
#include <string>

namespace hypatia {

// The contents written by write_checked_file, or "" when the file is missing, cut short or damaged.
std::string read_checked_file(const std::string& path);
// Writes `contents` (creating the folder); a failure to write is ignored (the cache is an optimization).
void write_checked_file(const std::string& path, const std::string& contents);

}  // namespace hypatia
