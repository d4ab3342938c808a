// libedit through its readline-compatible API. Swift 6 refuses writes to imported C
// globals, so the few the prompt sets go through the inline setters below.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>

typedef char **mlsh_completion_fn(const char *text, int start, int end);

static inline void mlsh_set_completion(mlsh_completion_fn *fn) {
    rl_attempted_completion_function = (rl_completion_func_t *)fn;
}
static inline void mlsh_set_completion_append(int ch) { rl_completion_append_character = ch; }
// libedit keeps these pointers, and Swift strings passed as C strings live only for the
// call: keep a copy (set once per process).
static inline void mlsh_set_word_break(const char *chars) {
    char *copy = strdup(chars);
    rl_basic_word_break_characters = copy;
}
static inline void mlsh_set_readline_name(const char *name) { rl_readline_name = strdup(name); }
static inline const char *mlsh_line_buffer(void) { return rl_line_buffer; }
static inline int mlsh_point(void) { return rl_point; }
static inline void mlsh_set_attempted_completion_over(int v) { rl_attempted_completion_over = v; }
