/* xxHash (libxxhash), for the per-block digests of snapshot files (MLShStore.TableFile). */
#include <xxhash.h>
