/* Zstandard (libzstd), for the compressed blocks of snapshot files (MLShStore.TableFile)
   and the ZSTD pages of Parquet files (MLShEngine.Parquet). */
#include <zstd.h>
