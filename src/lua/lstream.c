/*
** lstream.c: Lua C API binding of the reply reader and writer of the C
** core (src/stream.c). Adds to smtpcode.core:
**   reader_new([opts]) -> reader userdata
**   reader_feed(r, chunk) -> { reply strings } | nil, message, errcode
**   reader_pending(r) -> bytes held;  reader_reset(r)
**   format(code, enhanced|nil, text [, opts]) -> string | nil, msg, errcode
** lua/smtpcode/stream.lua turns the reply strings into parse tables.
** The reader holds its bytes in a buffer owned by the userdata (Lua's
** allocator, freed by __gc), never more than max_reply + 1 bytes.
*/
#include <stddef.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "lstream.h"
#include "smtpcode.h"

#define READER "smtpcode.reader"

typedef struct reader {
  smtpcode_stream st;
  smtpcode_opts opts; /* as given, for reset */
  char *buf;          /* pending bytes are buf[head..len) */
  size_t head, len, cap;
  size_t hold;        /* most bytes ever held: max_reply + 1 */
} reader;

static int argerr(lua_State *L, int arg, const char *fname, const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static int typeerr(lua_State *L, int arg, const char *fname,
                   const char *expected) {
  int t = lua_type(L, arg);
  return argerr(L, arg, fname,
                lua_pushfstring(L, "%s expected, got %s", expected,
                                t == LUA_TNONE ? "nil" : lua_typename(L, t)));
}

/* opts.<name>: nil -> 0 (default), else a number >= 1. */
static int optlim(lua_State *L, int arg, const char *fname, const char *name) {
  lua_Number v;
  lua_pushstring(L, name);
  lua_rawget(L, arg);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TNUMBER)
    argerr(L, arg, fname,
           lua_pushfstring(L, "opts.%s must be a number, got %s", name,
                           luaL_typename(L, -1)));
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 1))
    argerr(L, arg, fname, lua_pushfstring(L, "opts.%s must be positive", name));
  return v > SMTPCODE_LIMIT_CEILING ? SMTPCODE_LIMIT_CEILING : (int)v;
}

static int optflag(lua_State *L, int arg, const char *name) {
  int on;
  lua_pushstring(L, name);
  lua_rawget(L, arg);
  on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

static void getopts(lua_State *L, int arg, const char *fname,
                    smtpcode_opts *o, int format) {
  int t = lua_type(L, arg);
  memset(o, 0, sizeof *o);
  if (t == LUA_TNONE || t == LUA_TNIL) return;
  if (t != LUA_TTABLE) typeerr(L, arg, fname, "table");
  if (format) {
    if (optflag(L, arg, "utf8")) o->flags |= SMTPCODE_O_UTF8;
  } else if (optflag(L, arg, "lenient")) {
    o->flags |= SMTPCODE_O_LENIENT;
  }
  o->max_line = optlim(L, arg, fname, "max_line");
  o->max_lines = optlim(L, arg, fname, "max_lines");
  o->max_reply = optlim(L, arg, fname, "max_reply");
}

/* nil, message, errcode for a stopped reader or a refused format */
static int pushfail(lua_State *L, int status, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_pushstring(L, smtpcode_status_name(status));
  return 3;
}

static int readerfail(lua_State *L, const reader *r) {
  char msg[SMTPCODE_MESSAGE_MAX];
  smtpcode_status_message(r->st.status, r->st.nlines, msg, sizeof msg);
  return pushfail(L, r->st.status, msg);
}

static reader *checkreader(lua_State *L, int arg, const char *fname) {
  reader *r = (reader *)lua_touserdata(L, arg);
  if (r != NULL && lua_getmetatable(L, arg)) {
    luaL_getmetatable(L, READER);
    if (lua_rawequal(L, -1, -2)) {
      lua_pop(L, 2);
      return r;
    }
    lua_pop(L, 2);
  }
  typeerr(L, arg, fname, "reader");
  return NULL;
}

static void *realloc_l(lua_State *L, void *p, size_t old, size_t n) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  return f(ud, p, old, n);
}

/* Room for k more bytes after buf[len): compact, then grow. */
static void reserve(lua_State *L, reader *r, size_t k) {
  size_t need, ncap;
  char *nb;
  if (r->cap - r->len >= k) return;
  if (r->head > 0) {
    memmove(r->buf, r->buf + r->head, r->len - r->head);
    r->len -= r->head;
    r->head = 0;
    if (r->cap - r->len >= k) return;
  }
  need = r->len + k;
  ncap = r->cap < 256 ? 256 : r->cap;
  while (ncap < need) ncap *= 2;
  if (ncap > r->hold) ncap = r->hold > need ? r->hold : need;
  nb = (char *)realloc_l(L, r->buf, r->cap, ncap);
  if (nb == NULL) luaL_error(L, "not enough memory");
  r->buf = nb;
  r->cap = ncap;
}

static int l_reader_new(lua_State *L) {
  smtpcode_opts o;
  reader *r;
  getopts(L, 1, "reader", &o, 0);
  r = (reader *)lua_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  r->opts = o;
  r->hold = (size_t)(o.max_reply > 0 ? o.max_reply : SMTPCODE_MAX_REPLY) + 1;
  smtpcode_stream_init(&r->st, &o);
  luaL_getmetatable(L, READER);
  lua_setmetatable(L, -2);
  return 1;
}

/*
** reader_feed(r, chunk): the complete replies now held, as strings, in a
** table. When the reader stops on an error after some replies, those are
** returned and the next call reports the error.
*/
static int l_reader_feed(lua_State *L) {
  reader *r = checkreader(L, 1, "feed");
  size_t n, i = 0;
  const char *c;
  int k = 0, x = 0, t;
  if (lua_type(L, 2) != LUA_TSTRING) typeerr(L, 2, "feed", "string");
  c = lua_tolstring(L, 2, &n);
  if (r->st.status < 0) return readerfail(L, r);
  lua_newtable(L);
  t = lua_gettop(L);
  for (;;) {
    if (r->head == r->len) {
      /* nothing held: read the chunk where it is, keep only its tail */
      r->head = r->len = 0;
      if (i >= n) break;
      x = smtpcode_stream_next(&r->st, c + i, n - i);
      if (x > 0) {
        lua_pushlstring(L, c + i, (size_t)x);
        lua_rawseti(L, t, ++k);
        i += (size_t)x;
        continue;
      }
      if (x < 0) break;
      reserve(L, r, n - i);
      memcpy(r->buf, c + i, n - i);
      r->len = n - i;
      break;
    } else {
      size_t held = r->len - r->head;
      size_t take = n - i;
      if (take > r->hold - held) take = r->hold - held;
      if (take > 0) {
        reserve(L, r, take);
        memcpy(r->buf + r->len, c + i, take);
        r->len += take;
        i += take;
      }
      while (r->head < r->len) {
        x = smtpcode_stream_next(&r->st, r->buf + r->head, r->len - r->head);
        if (x <= 0) break;
        lua_pushlstring(L, r->buf + r->head, (size_t)x);
        lua_rawseti(L, t, ++k);
        r->head += (size_t)x;
      }
      if (x < 0) break;
      /* bytes held and the chunk used up: wait for more; else go on
         (x == 0 means at most max_reply bytes are held: there is room) */
      if (r->head < r->len && i >= n) break;
    }
  }
  if (r->st.status < 0) {
    r->head = r->len = 0; /* nothing more will be read */
    if (k == 0) return readerfail(L, r);
  }
  lua_settop(L, t);
  return 1;
}

static int l_reader_pending(lua_State *L) {
  reader *r = checkreader(L, 1, "pending");
  lua_pushinteger(L, (lua_Integer)(r->len - r->head));
  return 1;
}

static int l_reader_reset(lua_State *L) {
  reader *r = checkreader(L, 1, "reset");
  r->head = r->len = 0;
  smtpcode_stream_init(&r->st, &r->opts);
  return 0;
}

/* reader_status(r) -> nil, or nil, message, errcode of a stopped reader */
static int l_reader_status(lua_State *L) {
  reader *r = checkreader(L, 1, "status");
  if (r->st.status < 0) return readerfail(L, r);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_reader_gc(lua_State *L) {
  reader *r = (reader *)lua_touserdata(L, 1);
  if (r != NULL && r->buf != NULL) {
    realloc_l(L, r->buf, r->cap, 0);
    r->buf = NULL;
    r->cap = r->len = r->head = 0;
  }
  return 0;
}

#define FMT_STACK 1024

/* format(code, enhanced|nil, text [, opts]) -> reply | nil, msg, errcode */
static int l_format(lua_State *L) {
  lua_Number v;
  int code, n;
  size_t elen = 0, tlen;
  const char *enh = NULL, *text;
  smtpcode_opts o;
  char stack[FMT_STACK], *out = stack;
  if (lua_type(L, 1) != LUA_TNUMBER) typeerr(L, 1, "format", "number");
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TSTRING) typeerr(L, 2, "format", "string or nil");
    enh = lua_tolstring(L, 2, &elen);
  }
  if (lua_type(L, 3) != LUA_TSTRING) typeerr(L, 3, "format", "string");
  text = lua_tolstring(L, 3, &tlen);
  getopts(L, 4, "format", &o, 1);
  v = lua_tonumber(L, 1);
  code = (v >= 0 && v <= 999 && v == (lua_Number)(int)v) ? (int)v : -1;
  if (enh != NULL && elen == 0) /* "" is not an enhanced code */
    return pushfail(L, SMTPCODE_ESYNTAX, "not an enhanced status code: \"\"");
  n = smtpcode_format(code, enh, elen, text, tlen, &o, NULL, 0);
  if (n < 0) {
    const char *msg;
    if (n == SMTPCODE_ESYNTAX &&
        smtpcode_format(code, NULL, 0, "", 0, NULL, NULL, 0) < 0)
      msg = "not a reply code (200-599, second digit 0-5)";
    else if (n == SMTPCODE_ESYNTAX)
      msg = "not an enhanced status code";
    else if (n == SMTPCODE_EINCONSISTENT)
      msg = "the enhanced code's class differs from the reply code's "
            "(a 3yz reply has none)";
    else
      msg = "the reply would exceed a limit (max_line too small for the "
            "codes, or more than max_lines lines or max_reply bytes)";
    return pushfail(L, n, msg);
  }
  if ((size_t)n > sizeof stack) out = (char *)lua_newuserdata(L, (size_t)n);
  smtpcode_format(code, enh, elen, text, tlen, &o, out, (size_t)n);
  lua_pushlstring(L, out, (size_t)n);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"reader_new", l_reader_new},
  {"reader_feed", l_reader_feed},
  {"reader_pending", l_reader_pending},
  {"reader_reset", l_reader_reset},
  {"reader_status", l_reader_status},
  {"format", l_format},
  {NULL, NULL}
};

int smtpcode_lstream_open(lua_State *L) {
  const luaL_Reg *f;
  luaL_newmetatable(L, READER);
  lua_pushcfunction(L, l_reader_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "smtpcode.reader");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  for (f = funcs; f->name != NULL; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 0;
}
