/* OpenSSL's libcrypto SHA-256 (SHA256_Init/Update/Final over a plain SHA256_CTX), for
 * MLShEngine.SHA256. The low-level digest calls are deprecated in OpenSSL 3 in favour of
 * EVP, whose contexts are heap objects; the plain struct keeps SHA256 a value type. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
