/* Zstandard (libzstd), for the compressed blocks of snapshot files (MLShStore.TableFile). */
#include <zstd.h>
