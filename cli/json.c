/* json.c - recursive-descent JSON reader (see json.h).  Depth is bounded so that a hostile
 * file cannot exhaust the stack. */
#define _GNU_SOURCE
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct parser {
    const char *s, *p;
    char *err;
    size_t errlen;
    int failed;
};

static void perr(struct parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    int line = 1;
    for (const char *q = ps->s; q < ps->p; q++)
        line += *q == '\n';
    int n = snprintf(ps->err, ps->errlen, "line %d: ", line);
    if (n < 0 || (size_t)n >= ps->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_ws(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static int put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* At the opening quote; returns a malloc'd decoded string (never longer than the source). */
static char *parse_string(struct parser *ps)
{
    const char *start = ++ps->p;
    const char *end = start;
    while (*end && *end != '"') {
        if (*end == '\\' && end[1])
            end++;
        end++;
    }
    if (*end != '"') {
        perr(ps, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(end - start) + 1), *o = out;
    if (!out) {
        perr(ps, "out of memory");
        return NULL;
    }
    const char *p = start;
    while (p < end) {
        if ((unsigned char)*p < 0x20) {
            ps->p = p;
            perr(ps, "control character in string");
            free(out);
            return NULL;
        }
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (p + 4 >= end || hex4(p + 1, &cp)) {
                ps->p = p;
                perr(ps, "bad \\u escape");
                free(out);
                return NULL;
            }
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && p + 6 < end && p[1] == '\\' && p[2] == 'u' &&
                !hex4(p + 3, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            /* 6 source bytes always cover the (at most 4) UTF-8 bytes written */
            o += put_utf8(o, cp);
            break;
        }
        default:
            ps->p = p;
            perr(ps, "bad escape '\\%c'", *p);
            free(out);
            return NULL;
        }
        p++;
    }
    *o = 0;
    ps->p = end + 1;
    return out;
}

static int parse_value(struct parser *ps, struct json *v, int depth);

static int add_item(struct parser *ps, struct json *v, size_t *cap, char *key)
{
    if (v->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct json *ni = realloc(v->items, nc * sizeof *ni);
        if (!ni) {
            free(key);
            perr(ps, "out of memory");
            return -1;
        }
        v->items = ni;
        if (v->type == JSON_OBJECT) {
            char **nk = realloc(v->keys, nc * sizeof *nk);
            if (!nk) {
                free(key);
                perr(ps, "out of memory");
                return -1;
            }
            v->keys = nk;
        }
        *cap = nc;
    }
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    if (v->type == JSON_OBJECT)
        v->keys[v->n] = key;
    v->n++;
    return 0;
}

static int parse_value(struct parser *ps, struct json *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_ws(ps);
    if (depth > JSON_MAX_DEPTH) {
        perr(ps, "nested too deeply");
        return -1;
    }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        char close = c == '{' ? '}' : ']';
        size_t cap = 0;
        ps->p++;
        skip_ws(ps);
        if (*ps->p == close) {
            ps->p++;
            return 0;
        }
        for (;;) {
            char *key = NULL;
            skip_ws(ps);
            if (v->type == JSON_OBJECT) {
                if (*ps->p != '"') {
                    perr(ps, "expected a member name");
                    return -1;
                }
                if (!(key = parse_string(ps)))
                    return -1;
                skip_ws(ps);
                if (*ps->p != ':') {
                    free(key);
                    perr(ps, "expected ':'");
                    return -1;
                }
                ps->p++;
            }
            if (add_item(ps, v, &cap, key))
                return -1;
            if (parse_value(ps, &v->items[v->n - 1], depth + 1))
                return -1;
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == close) {
                ps->p++;
                return 0;
            }
            perr(ps, "expected ',' or '%c'", close);
            return -1;
        }
    }
    if (c == '"') {
        v->type = JSON_STRING;
        v->text = parse_string(ps);
        return v->text ? 0 : -1;
    }
    if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
        v->type = JSON_BOOL;
        v->boolean = c == 't';
        ps->p += v->boolean ? 4 : 5;
        return 0;
    }
    if (strncmp(ps->p, "null", 4) == 0) {
        v->type = JSON_NULL;
        ps->p += 4;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        v->type = JSON_NUMBER;
        v->number = strtod(ps->p, &end);
        if (end == ps->p) {
            perr(ps, "bad number");
            return -1;
        }
        v->text = strndup(ps->p, (size_t)(end - ps->p));
        ps->p = end;
        if (!v->text) {
            perr(ps, "out of memory");
            return -1;
        }
        return 0;
    }
    perr(ps, c ? "unexpected character '%c'" : "unexpected end of input", c);
    return -1;
}

static void free_value(struct json *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free_value(&j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->text);
}

void json_free(struct json *j)
{
    if (!j)
        return;
    free_value(j);
    free(j);
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
    struct parser ps = { .s = text, .p = text, .err = err, .errlen = errlen };
    struct json *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (parse_value(&ps, j, 0) == 0) {
        skip_ws(&ps);
        if (*ps.p)
            perr(&ps, "text after the end of the document");
    }
    if (ps.failed) {
        json_free(j);
        return NULL;
    }
    return j;
}

const struct json *json_get(const struct json *j, const char *key)
{
    if (!j || j->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0)
            return &j->items[i];
    return NULL;
}

int json_get_u64(const struct json *j, const char *key, uint64_t *out)
{
    const struct json *v = json_get(j, key);
    if (!v || v->type != JSON_NUMBER || v->text[0] == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v->text, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

const char *json_get_str(const struct json *j, const char *key)
{
    const struct json *v = json_get(j, key);
    return v && v->type == JSON_STRING ? v->text : NULL;
}

char *json_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return NULL;
    if (bad || memchr(buf, 0, n)) {
        free(buf);
        errno = bad ? EIO : EINVAL;
        return NULL;
    }
    buf[n] = 0;
    return buf;
}
