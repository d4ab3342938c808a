/* zlib, for the GZIP pages of Parquet files (MLShEngine.Parquet). zlib's init calls are
   macros, which Swift does not import: the inline functions below stand for them. */
#include <zlib.h>

/* Inflates gzip or zlib streams (window bits 15, header detected). */
static inline int mlsh_inflate_init(z_streamp s) { return inflateInit2(s, 15 + 32); }

/* Deflates into a gzip stream (RFC 1952) at `level`. */
static inline int mlsh_deflate_init_gzip(z_streamp s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
