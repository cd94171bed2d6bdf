/*
** lsmtpcode.c: the Lua C API binding of the smtpcode core (module
** "smtpcode.core"). This is the only file that includes Lua headers.
** Written against the Lua 5.3/5.4 API, with a few private back-ports for
** Lua 5.1 and LuaJIT.
*/
#include <stddef.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "smtpcode.h"

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 502
#define sc_rawlen(L, i) lua_objlen((L), (i))
#else
#define sc_rawlen(L, i) lua_rawlen((L), (i))
#endif

/* luaL_setfuncs with upvalues, for Lua 5.1 (LuaJIT has it, 5.1 has not). */
static void sc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

/*
** {======================================================
** Interned strings, kept as upvalues of every function
** =======================================================
*/
enum {
  K_CODE = 1, K_SEVERITY, K_ENHANCED, K_CLASS, K_SUBJECT, K_DETAIL, K_TEXT,
  K_LINES, K_MISMATCH, K_NONSTANDARD, K_VARIES, K_LENGTH,
  K_SUCCESS, K_INTERMEDIATE, K_TRANSIENT, K_PERMANENT, K_UNKNOWN,
  K_LENIENT, K_MAX_LINE, K_MAX_LINES, K_MAX_REPLY,
  K_COUNT = K_MAX_REPLY
};

static const char *const keynames[K_COUNT] = {
  "code", "severity", "enhanced", "class", "subject", "detail", "text",
  "lines", "mismatch", "nonstandard", "enhanced_varies", "length",
  "success", "intermediate", "transient", "permanent", "unknown",
  "lenient", "max_line", "max_lines", "max_reply"
};

#define pushkey(L, k) lua_pushvalue((L), lua_upvalueindex(k))

static void pushseverity(lua_State *L, int code) {
  switch (smtpcode_severity_of(code)) {
  case SMTPCODE_SEV_SUCCESS: pushkey(L, K_SUCCESS); break;
  case SMTPCODE_SEV_INTERMEDIATE: pushkey(L, K_INTERMEDIATE); break;
  case SMTPCODE_SEV_TRANSIENT: pushkey(L, K_TRANSIENT); break;
  case SMTPCODE_SEV_PERMANENT: pushkey(L, K_PERMANENT); break;
  default: pushkey(L, K_UNKNOWN); break;
  }
}
/* }====================================================== */

/*
** Raise "bad argument #arg to 'fname' (msg)". The function name is given
** explicitly so the message is the same on every Lua version.
*/
static int sc_argerror(lua_State *L, int arg, const char *fname,
                       const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static int sc_typeerror(lua_State *L, int arg, const char *fname,
                        const char *expected) {
  int t = lua_type(L, arg);
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected,
                                    t == LUA_TNONE ? "nil" : lua_typename(L, t));
  return sc_argerror(L, arg, fname, msg);
}

static const char *checkstr(lua_State *L, int arg, const char *fname,
                            size_t *len) {
  if (lua_type(L, arg) != LUA_TSTRING) sc_typeerror(L, arg, fname, "string");
  return lua_tolstring(L, arg, len);
}

static int optlimit(lua_State *L, int arg, const char *fname, int key,
                    const char *name) {
  lua_Number v;
  int out;
  pushkey(L, key);
  lua_rawget(L, arg);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TNUMBER) {
    const char *msg = lua_pushfstring(L, "opts.%s must be a number, got %s",
                                      name, luaL_typename(L, -1));
    sc_argerror(L, arg, fname, msg);
  }
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 1)) {
    const char *msg = lua_pushfstring(L, "opts.%s must be positive", name);
    sc_argerror(L, arg, fname, msg);
  }
  out = v > SMTPCODE_LIMIT_CEILING ? SMTPCODE_LIMIT_CEILING : (int)v;
  return out;
}

/* Read an options table at arg (nil or none: defaults). */
static const smtpcode_opts *getopts(lua_State *L, int arg, const char *fname,
                                   smtpcode_opts *o) {
  int t = lua_type(L, arg);
  if (t == LUA_TNONE || t == LUA_TNIL) return NULL;
  if (t != LUA_TTABLE) sc_typeerror(L, arg, fname, "table");
  memset(o, 0, sizeof *o);
  pushkey(L, K_LENIENT);
  lua_rawget(L, arg);
  if (lua_toboolean(L, -1)) o->flags |= SMTPCODE_O_LENIENT;
  lua_pop(L, 1);
  o->max_line = optlimit(L, arg, fname, K_MAX_LINE, "max_line");
  o->max_lines = optlimit(L, arg, fname, K_MAX_LINES, "max_lines");
  o->max_reply = optlimit(L, arg, fname, K_MAX_REPLY, "max_reply");
  return o;
}

/* Push nil, message, code for a failed parse. Returns 3. */
static int pusherror(lua_State *L, int status, int line) {
  lua_pushnil(L);
  switch (status) {
  case SMTPCODE_ESYNTAX:
    lua_pushfstring(L, "line %d is not a valid reply line", line);
    break;
  case SMTPCODE_EINCOMPLETE:
    lua_pushfstring(L, "reply is incomplete at line %d", line);
    break;
  case SMTPCODE_EINCONSISTENT:
    lua_pushfstring(L, "line %d has a different reply code than line 1", line);
    break;
  case SMTPCODE_ETOOLONG:
    lua_pushfstring(L, "reply exceeds a size limit at line %d", line);
    break;
  default:
    lua_pushfstring(L, "error %d at line %d", status, line);
    break;
  }
  lua_pushstring(L, smtpcode_status_name(status));
  return 3;
}

/* t[key] = v or nil; t is at idx (absolute) */
static void setint(lua_State *L, int t, int key, int present, int v) {
  pushkey(L, key);
  if (present)
    lua_pushinteger(L, v);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
}

static void setflag(lua_State *L, int t, int key, int on) {
  pushkey(L, key);
  if (on)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
}

#define STACK_LINES 16

/* parse(reply [, opts [, into]]) */
static int l_parse(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "parse", &len);
  smtpcode_opts ob;
  const smtpcode_opts *o = getopts(L, 2, "parse", &ob);
  smtpcode_line stack[STACK_LINES];
  smtpcode_line *lines = stack;
  smtpcode_reply r;
  int n, i, t, lt;

  if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3))
    sc_typeerror(L, 3, "parse", "table");
  n = smtpcode_parse_reply(s, len, o, &r, lines, STACK_LINES);
  if (n < 0) return pusherror(L, n, r.nlines);
  if (r.nlines > STACK_LINES) { /* rare: parse again into a GC'd buffer */
    lines = (smtpcode_line *)lua_newuserdata(L, sizeof(smtpcode_line) *
                                                    (size_t)r.nlines);
    n = smtpcode_parse_reply(s, len, o, &r, lines, r.nlines);
  }
  if (lua_istable(L, 3)) {
    lua_pushvalue(L, 3);
  } else {
    lua_createtable(L, 0, 12);
  }
  t = lua_gettop(L);
  pushkey(L, K_CODE);
  lua_pushinteger(L, r.code);
  lua_rawset(L, t);
  pushkey(L, K_SEVERITY);
  pushseverity(L, r.code);
  lua_rawset(L, t);
  pushkey(L, K_ENHANCED);
  if (r.cls)
    lua_pushlstring(L, s + r.enh_off, (size_t)r.enh_len);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
  setint(L, t, K_CLASS, r.cls, r.cls);
  setint(L, t, K_SUBJECT, r.cls, r.subject);
  setint(L, t, K_DETAIL, r.cls, r.detail);
  setflag(L, t, K_MISMATCH, r.flags & SMTPCODE_F_MISMATCH);
  setflag(L, t, K_NONSTANDARD, r.flags & SMTPCODE_F_NONSTANDARD);
  setflag(L, t, K_VARIES, r.flags & SMTPCODE_F_ENH_VARIES);
  setint(L, t, K_LENGTH, 1, n);
  /* lines: reuse into.lines when it is a table */
  pushkey(L, K_LINES);
  lua_rawget(L, t);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, r.nlines, 0);
    pushkey(L, K_LINES);
    lua_pushvalue(L, -2);
    lua_rawset(L, t);
  }
  lt = lua_gettop(L);
  {
    int old = (int)sc_rawlen(L, lt);
    {
      size_t pos = 0;
      for (i = 0; i < r.nlines; i++) {
        lua_pushlstring(L, s + pos + (size_t)lines[i].text_off,
                        (size_t)lines[i].text_len);
        lua_rawseti(L, lt, i + 1);
        pos += (size_t)lines[i].length;
      }
    }
    for (i = r.nlines + 1; i <= old; i++) {
      lua_pushnil(L);
      lua_rawseti(L, lt, i);
    }
  }
  /* text: the line texts joined with "\n" */
  pushkey(L, K_TEXT);
  if (r.nlines == 1) {
    lua_rawgeti(L, lt, 1);
  } else {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    {
      size_t pos = 0;
      for (i = 0; i < r.nlines; i++) {
        if (i > 0) luaL_addchar(&b, '\n');
        luaL_addlstring(&b, s + pos + (size_t)lines[i].text_off,
                        (size_t)lines[i].text_len);
        pos += (size_t)lines[i].length;
      }
    }
    luaL_pushresult(&b);
  }
  lua_rawset(L, t);
  lua_settop(L, t);
  return 1;
}

/* scan(line [, opts]) -> code, severity, enhanced|nil, text, continued */
static int l_scan(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "scan", &len);
  smtpcode_opts ob;
  const smtpcode_opts *o = getopts(L, 2, "scan", &ob);
  smtpcode_line ln;
  int r = smtpcode_parse_line(s, len, o, &ln);
  if (r < 0) return pusherror(L, r, 1);
  lua_pushinteger(L, ln.code);
  pushseverity(L, ln.code);
  if (ln.cls)
    lua_pushlstring(L, s + ln.enh_off, (size_t)ln.enh_len);
  else
    lua_pushnil(L);
  lua_pushlstring(L, s + ln.text_off, (size_t)ln.text_len);
  lua_pushboolean(L, ln.flags & SMTPCODE_F_CONTINUED);
  return 5;
}

/* status("5.7.26") -> 5, 7, 26 */
static int l_status(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "status", &len);
  int c, sb, d;
  if (smtpcode_parse_status(s, len, &c, &sb, &d) < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not an enhanced status code");
    lua_pushstring(L, smtpcode_status_name(SMTPCODE_ESYNTAX));
    return 3;
  }
  lua_pushinteger(L, c);
  lua_pushinteger(L, sb);
  lua_pushinteger(L, d);
  return 3;
}

/* Struct sizes and field offsets, so a spec can check the FFI cdef. */
#define LAYOUT(T, F) \
  do { \
    lua_pushinteger(L, (lua_Integer)offsetof(T, F)); \
    lua_setfield(L, -2, #T "." #F); \
  } while (0)

static void pushlayout(lua_State *L) {
  lua_newtable(L);
  lua_pushinteger(L, (lua_Integer)sizeof(smtpcode_opts));
  lua_setfield(L, -2, "smtpcode_opts");
  lua_pushinteger(L, (lua_Integer)sizeof(smtpcode_line));
  lua_setfield(L, -2, "smtpcode_line");
  lua_pushinteger(L, (lua_Integer)sizeof(smtpcode_reply));
  lua_setfield(L, -2, "smtpcode_reply");
  LAYOUT(smtpcode_opts, flags);
  LAYOUT(smtpcode_opts, max_reply);
  LAYOUT(smtpcode_line, code);
  LAYOUT(smtpcode_line, enh_off);
  LAYOUT(smtpcode_line, text_off);
  LAYOUT(smtpcode_line, length);
  LAYOUT(smtpcode_reply, code);
  LAYOUT(smtpcode_reply, enh_off);
  LAYOUT(smtpcode_reply, nlines);
  LAYOUT(smtpcode_reply, length);
  /* ===== layout entries added by later features go below ===== */
}

/* Constants the front module needs (status and flag values). */
static void pushconstants(lua_State *L) {
  lua_newtable(L);
#define CONST(name) \
  lua_pushinteger(L, SMTPCODE_##name); \
  lua_setfield(L, -2, #name)
  CONST(ESYNTAX); CONST(EINCOMPLETE); CONST(EINCONSISTENT); CONST(ETOOLONG);
  CONST(ENOTFOUND); CONST(F_CONTINUED); CONST(F_MISMATCH);
  CONST(F_NONSTANDARD); CONST(F_NOEOL); CONST(F_ENH_VARIES); CONST(O_LENIENT);
  CONST(MAX_LINE); CONST(MAX_LINES); CONST(MAX_REPLY);
#undef CONST
}

/* ===== functions added by later features go below (registry, find, classify) ===== */

static const luaL_Reg funcs[] = {
  {"parse", l_parse},
  {"scan", l_scan},
  {"status", l_status},
  /* ===== registrations added by later features go below ===== */
  {NULL, NULL}
};

SMTPCODE_API int luaopen_smtpcode_core(lua_State *L);

SMTPCODE_API int luaopen_smtpcode_core(lua_State *L) {
  int i;
  luaL_checkstack(L, 2 * K_COUNT + 4, "smtpcode");
  lua_newtable(L);
  for (i = 0; i < K_COUNT; i++) lua_pushstring(L, keynames[i]);
  sc_setfuncs(L, funcs, K_COUNT);
  lua_pushliteral(L, SMTPCODE_VERSION);
  lua_setfield(L, -2, "_VERSION");
  pushlayout(L);
  lua_setfield(L, -2, "_layout");
  pushconstants(L);
  lua_setfield(L, -2, "_constants");
  return 1;
}
