/* json.h - a small JSON reader for wedge's own reports (wedge merge reads --json files).
 * The whole document is parsed into a tree; strings are decoded (\uXXXX to UTF-8). Numbers
 * keep their text so that 64-bit integers survive exactly. */
#ifndef WEDGE_JSON_H
#define WEDGE_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    int boolean;
    double number;
    char *text;                  /* string value, or the number as written */
    size_t n;                    /* array items / object members */
    struct json *items;
    char **keys;                 /* objects: key of each item */
};

/* NULL on error, with a message "line L: ..." in err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);
/* A member of an object, NULL if absent or j is not an object. */
const struct json *json_get(const struct json *j, const char *key);
/* Typed accessors: 0 and the value, or -1 if absent or of another type. */
int json_get_u64(const struct json *j, const char *key, uint64_t *out);
const char *json_get_str(const struct json *j, const char *key); /* NULL: absent/not string */
/* Read a whole file into a malloc'd, NUL-terminated buffer (NULL, errno set). */
char *json_read_file(const char *path);

#endif
