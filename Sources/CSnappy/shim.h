/* Snappy (libsnappy) through its C API, for the SNAPPY pages of Parquet files (MLShEngine.Parquet). */
#include <stddef.h>
#include <snappy-c.h>
