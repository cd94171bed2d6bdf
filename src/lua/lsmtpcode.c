/*
** lsmtpcode.c: the Lua C API binding of the smtpcode core (module
** "smtpcode.core"). src/lua/ is the only folder that includes Lua headers.
** Written against the Lua 5.3/5.4 API, with a few private back-ports for
** Lua 5.1 and LuaJIT.
*/
#include <stddef.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "lstream.h"
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
  K_REASON, K_SCOPE, K_BOUNCE, K_RETRY, K_DESCRIPTION, K_ADVICE, K_MATCHED,
  K_TRUNCATED, K_HARD, K_SOFT,
  K_DELAYED,
  K_COUNT = K_DELAYED,
  /* two tables follow the strings: classify's string cache and the slot
     of the user-rule hook (see classify below) */
  K_CACHE, K_USER,
  K_NUP = K_USER
};

/*
** classify has more upvalues after those: the reason and scope names, and
** the descriptions and advice the C core returns by smtpcode_verdict_text
** (filled on first use), as Lua strings (below).
*/
#define X_REASON(r) (K_NUP + (r))              /* r 1..23 */
#define X_SCOPE(s) (X_REASON(SMTPCODE_REASON_COUNT - 1) + (s)) /* s 1..5 */
#define X_DESC(t) (X_SCOPE(SMTPCODE_SCOPE_SESSION) + 1 + (t))
#define X_ADV(t) (X_DESC(SMTPCODE_VERDICT_TEXTS) + (t))
#define X_NUP (X_ADV(SMTPCODE_VERDICT_TEXTS) - 1)

static const char *const keynames[K_COUNT] = {
  "code", "severity", "enhanced", "class", "subject", "detail", "text",
  "lines", "mismatch", "nonstandard", "enhanced_varies", "length",
  "success", "intermediate", "transient", "permanent", "unknown",
  "lenient", "max_line", "max_lines", "max_reply",
  "reason", "scope", "bounce", "retry", "description", "advice", "matched",
  "truncated", "hard", "soft",
  "delayed"
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

#define SIZE(T) \
  do { \
    lua_pushinteger(L, (lua_Integer)sizeof(T)); \
    lua_setfield(L, -2, #T); \
  } while (0)

/* The structs the FFI backend declares: sizes and some offsets. */
static void pushlayout(lua_State *L) {
  lua_newtable(L);
  SIZE(smtpcode_opts);
  LAYOUT(smtpcode_opts, flags);
  LAYOUT(smtpcode_opts, max_reply);
  SIZE(smtpcode_line);
  LAYOUT(smtpcode_line, code);
  LAYOUT(smtpcode_line, enh_off);
  LAYOUT(smtpcode_line, text_off);
  LAYOUT(smtpcode_line, length);
  SIZE(smtpcode_reply);
  LAYOUT(smtpcode_reply, code);
  LAYOUT(smtpcode_reply, enh_off);
  LAYOUT(smtpcode_reply, nlines);
  LAYOUT(smtpcode_reply, length);
  SIZE(smtpcode_verdict);
  LAYOUT(smtpcode_verdict, cls);
  LAYOUT(smtpcode_verdict, severity);
  LAYOUT(smtpcode_verdict, by);
  LAYOUT(smtpcode_verdict, rule);
  LAYOUT(smtpcode_verdict, flags);
}

#undef SIZE

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
  CONST(MAX_TEXT); CONST(MAX_CLASSIFY);
#undef CONST
}


/*
** {======================================================
** classify: classify(x [, opts]), rule_count(), reasons(), reason_records()
** =======================================================
*/

/* Push t[k] without metamethods; t at the absolute index idx. Tables
** passed in (opts, parse/find results) are read raw, as into is written:
** no caller code runs inside a call, on either backend. */
static void rawfield(lua_State *L, int idx, const char *k) {
  lua_pushstring(L, k);
  lua_rawget(L, idx);
}

/* Does the table at idx carry what classify reads (a number code, a
** string enhanced or a string text)? A table with none of them is not a
** parse or find result: classify raises rather than answer "unknown". */
static int cl_usable(lua_State *L, int idx) {
  int ok;
  rawfield(L, idx, "code");
  ok = lua_type(L, -1) == LUA_TNUMBER;
  lua_pop(L, 1);
  if (ok) return 1;
  rawfield(L, idx, "enhanced");
  ok = lua_type(L, -1) == LUA_TSTRING;
  lua_pop(L, 1);
  if (ok) return 1;
  rawfield(L, idx, "text");
  ok = lua_type(L, -1) == LUA_TSTRING;
  lua_pop(L, 1);
  return ok;
}

/* Fill f from a parse/find result table at idx; returns the text, whose
** string is left on the top of the stack (keeping it alive). */
static const char *cl_fromtable(lua_State *L, int idx, smtpcode_found *f,
                                size_t *len) {
  const char *s;
  memset(f, 0, sizeof *f);
  f->code_off = -1;
  rawfield(L, idx, "code");
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number c = lua_tonumber(L, -1);
    if (c >= 200 && c <= 599) f->code = (int)c;
  }
  lua_pop(L, 1);
  rawfield(L, idx, "enhanced");
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t n;
    const char *e = lua_tolstring(L, -1, &n);
    if (smtpcode_parse_status(e, n, &f->cls, &f->subject, &f->detail) < 0)
      f->cls = f->subject = f->detail = 0;
  }
  lua_pop(L, 1);
  f->how = f->code ? SMTPCODE_HOW_REPLY
                   : (f->cls ? SMTPCODE_HOW_STATUS : SMTPCODE_HOW_NONE);
  rawfield(L, idx, "text");
  if (lua_type(L, -1) == LUA_TSTRING) {
    s = lua_tolstring(L, -1, len);
    if (f->cls == 0) {
      /* an enhanced code in the text itself (qmail's "... (#5.1.1)"), as
         classify of the whole reply would have found it */
      smtpcode_found t;
      if (smtpcode_find(s, *len, &t, NULL) == 0 && t.cls != 0 &&
          (t.code == 0 || t.code == f->code)) {
        f->cls = t.cls;
        f->subject = t.subject;
        f->detail = t.detail;
        if (f->how == SMTPCODE_HOW_NONE) f->how = SMTPCODE_HOW_STATUS;
      }
    }
  } else {
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    s = "";
    *len = 0;
  }
  return s;
}

/*
** Strings that classify returns over and over are made once and kept in
** the K_CACHE upvalue: in its array part the "matched" text of every rule
** (CL_RULE + rule) and of every reply code (CL_REPLY + code - 200); in its
** hash part, keyed by the C string's address, reason and scope names,
** descriptions and advice, and, keyed by negative numbers, enhanced codes
** and their "matched" texts. Codes with a subject over 9 or a detail over
** 99 (rare, and unbounded in number) are not kept.
*/
#define CL_RULE 1
#define CL_REPLY (CL_RULE + smtpcode_rule_count())
#define CL_ENH 0         /* -(CL_ENH + key): "4.7.1" */
#define CL_BYENH 1000000 /* -(CL_BYENH + key): "enhanced 4.7.1" */
#define CL_BYCLS 2000000 /* -(CL_BYCLS + key): "enhanced 4.7.x" */

#define pushcache(L) lua_pushvalue((L), lua_upvalueindex(K_CACHE))

static int cl_enhkey(int c, int sb, int d) {
  if (c < 2 || c > 5 || sb < 0 || sb > 9 || d < 0 || d > 99) return -1;
  return 1 + c * 1000 + sb * 100 + d;
}

static void cl_pushreason(lua_State *L, const smtpcode_verdict *v) {
  if (v->reason >= 1 && v->reason < SMTPCODE_REASON_COUNT)
    lua_pushvalue(L, lua_upvalueindex(X_REASON(v->reason)));
  else
    lua_pushnil(L);
}

static void cl_pushscope(lua_State *L, const smtpcode_verdict *v) {
  if (v->scope >= 1 && v->scope <= SMTPCODE_SCOPE_SESSION)
    lua_pushvalue(L, lua_upvalueindex(X_SCOPE(v->scope)));
  else
    lua_pushnil(L);
}

static void cl_pushstr(lua_State *L, const char *p) {
  if (p)
    lua_pushstring(L, p);
  else
    lua_pushnil(L);
}

/* Push the strings of X_REASON(1) .. X_NUP, in that order: the names, then
** nil for the texts (see cl_pushtext). */
static void cl_pushtexts(lua_State *L) {
  int i;
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++)
    cl_pushstr(L, smtpcode_reason_name(i));
  for (i = 1; i <= SMTPCODE_SCOPE_SESSION; i++)
    cl_pushstr(L, smtpcode_scope_name(i));
  for (i = X_DESC(0); i <= X_NUP; i++) lua_pushnil(L);
}

/* The description (advice 0) or advice of v: upvalue up, made from the C
** string the first time. */
static void cl_pushtext(lua_State *L, int up, const smtpcode_verdict *v,
                        int advice) {
  lua_pushvalue(L, lua_upvalueindex(up));
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    cl_pushstr(L, advice ? smtpcode_verdict_advice(v)
                         : smtpcode_verdict_description(v));
    lua_pushvalue(L, -1);
    lua_replace(L, lua_upvalueindex(up));
  }
}

/* t[key] = nil, for a reused result table */
static void cl_clear(lua_State *L, int t, int key) {
  pushkey(L, key);
  lua_pushnil(L);
  lua_rawset(L, t);
}

/* "d.d.d" without the cost of lua_pushfstring */
static void cl_pushenhanced(lua_State *L, const char *prefix, int c, int sb,
                            int d, int xdetail) {
  char buf[32];
  int n = 0, k, parts[3];
  while (*prefix) buf[n++] = *prefix++;
  parts[0] = c;
  parts[1] = sb;
  parts[2] = d;
  for (k = 0; k < 3; k++) {
    int v = parts[k] < 0 ? 0 : parts[k] % 1000;
    if (k) buf[n++] = '.';
    if (k == 2 && xdetail) {
      buf[n++] = 'x';
      break;
    }
    if (v >= 100) buf[n++] = (char)('0' + v / 100);
    if (v >= 10) buf[n++] = (char)('0' + v / 10 % 10);
    buf[n++] = (char)('0' + v % 10);
  }
  lua_pushlstring(L, buf, (size_t)n);
}

/* An enhanced code as text, from the cache when it can be kept there;
** base: CL_ENH, CL_BYENH or CL_BYCLS. */
static void cl_pushenhcached(lua_State *L, int cache, int base,
                             const smtpcode_verdict *v) {
  static const char *const prefix[] = {"", "enhanced ", "enhanced "};
  int k = cl_enhkey(v->cls, v->subject, v->detail), slot = base / 1000000;
  if (k > 0) {
    lua_rawgeti(L, cache, -(base + k));
    if (!lua_isnil(L, -1)) return;
    lua_pop(L, 1);
  }
  cl_pushenhanced(L, prefix[slot], v->cls, v->subject, v->detail,
                  base == CL_BYCLS);
  if (k > 0) {
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, -(base + k));
  }
}

/* "reply 550", from the cache */
static void cl_pushreply(lua_State *L, int cache, int code) {
  int slot = CL_REPLY + code - 200;
  lua_rawgeti(L, cache, slot);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushfstring(L, "reply %d", code);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, slot);
  }
}

/* 'rule 12: "user unknown"', from the cache */
static void cl_pushrule(lua_State *L, int cache, int rule) {
  lua_rawgeti(L, cache, CL_RULE + rule);
  if (lua_isnil(L, -1)) {
    smtpcode_rule r;
    lua_pop(L, 1);
    smtpcode_rule_info(rule, &r);
    lua_pushfstring(L, "rule %d: \"%s\"", r.line, r.match);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, CL_RULE + rule);
  }
}

/* t[key] = value on the top; with reuse, t[key] = nil when !has */
#define cl_set(L, t, key, has, pushv)                                     \
  do {                                                                    \
    if (has) {                                                            \
      pushkey(L, key);                                                    \
      pushv;                                                              \
      lua_rawset(L, t);                                                   \
    } else if (reuse)                                                     \
      cl_clear(L, t, key);                                                \
  } while (0)

/* The opts argument: opts.reason / opts.scope / opts.matched settle the
** verdict with a reason chosen by the caller (user rules); opts.user_rules
** = false skips the user rules. */
static void cl_opts(lua_State *L, smtpcode_verdict *v, const char **umatched,
                    int *ureason, int *skipuser) {
  int uscope = 0;
  rawfield(L, 2, "reason");
  if (!lua_isnil(L, -1)) {
    size_t n;
    const char *r = lua_tolstring(L, -1, &n);
    *ureason = r ? smtpcode_reason_of(r, n) : SMTPCODE_ESYNTAX;
    if (*ureason < 0) sc_argerror(L, 2, "classify", "opts.reason is not a reason");
  }
  rawfield(L, 2, "scope");
  if (!lua_isnil(L, -1)) {
    size_t n;
    const char *r = lua_tolstring(L, -1, &n);
    uscope = r ? smtpcode_scope_of(r, n) : SMTPCODE_ESYNTAX;
    if (uscope < 0) sc_argerror(L, 2, "classify", "opts.scope is not a scope");
  }
  rawfield(L, 2, "matched");
  if (lua_type(L, -1) == LUA_TSTRING) *umatched = lua_tostring(L, -1);
  rawfield(L, 2, "user_rules");
  *skipuser = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (*ureason > 0) smtpcode_settle(v, *ureason, uscope);
}

/*
** classify(x [, opts [, into]]): why a reply failed. x is a text or a
** parse/find result table; into, a table to fill and return instead of a
** new one. When rules were added at run time (smtpcode.add_rule), the
** Lua module has put its hook in K_USER[1]: hook(x, opts, into, result)
** gives the answer for failures.
*/
static int l_classify(lua_State *L) {
  size_t len;
  const char *s;
  smtpcode_found f;
  smtpcode_verdict v;
  const char *umatched = NULL;
  int ureason = 0, skipuser = 0, t, cache, reuse, text, tx = lua_type(L, 1);
  lua_settop(L, 3);
  if (tx == LUA_TSTRING) {
    s = lua_tolstring(L, 1, &len);
    smtpcode_classify(s, len, NULL, &v);
  } else if (tx == LUA_TTABLE) {
    if (!cl_usable(L, 1))
      return sc_argerror(L, 1, "classify",
                         "parse or find result expected, got a table "
                         "without a number 'code', a string 'enhanced' or "
                         "a string 'text'");
    s = cl_fromtable(L, 1, &f, &len);
    smtpcode_classify(s, len, &f, &v);
  } else {
    return sc_typeerror(L, 1, "classify", "string or table");
  }
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2)) sc_typeerror(L, 2, "classify", "table");
    cl_opts(L, &v, &umatched, &ureason, &skipuser);
  }
  reuse = lua_istable(L, 3);
  if (!reuse && !lua_isnil(L, 3)) sc_typeerror(L, 3, "classify", "table");
  pushcache(L);
  cache = lua_gettop(L);
  if (reuse)
    lua_pushvalue(L, 3);
  else
    lua_createtable(L, 0, 12);
  t = lua_gettop(L);
  cl_set(L, t, K_CODE, v.code, lua_pushinteger(L, v.code));
  cl_set(L, t, K_ENHANCED, v.cls, cl_pushenhcached(L, cache, CL_ENH, &v));
  pushkey(L, K_SEVERITY);
  switch (v.severity) {
  case SMTPCODE_SEV_SUCCESS: pushkey(L, K_SUCCESS); break;
  case SMTPCODE_SEV_INTERMEDIATE: pushkey(L, K_INTERMEDIATE); break;
  case SMTPCODE_SEV_TRANSIENT: pushkey(L, K_TRANSIENT); break;
  case SMTPCODE_SEV_PERMANENT: pushkey(L, K_PERMANENT); break;
  default: pushkey(L, K_UNKNOWN); break;
  }
  lua_rawset(L, t);
  cl_set(L, t, K_REASON, v.reason, cl_pushreason(L, &v));
  cl_set(L, t, K_SCOPE, v.reason, cl_pushscope(L, &v));
  cl_set(L, t, K_BOUNCE, v.bounce,
         pushkey(L, v.bounce == SMTPCODE_BOUNCE_HARD ? K_HARD : K_SOFT));
  cl_set(L, t, K_RETRY, v.retry,
         lua_pushboolean(L, v.retry == SMTPCODE_RETRY_YES));
  text = smtpcode_verdict_text(&v);
  pushkey(L, K_DESCRIPTION);
  cl_pushtext(L, X_DESC(text), &v, 0);
  lua_rawset(L, t);
  pushkey(L, K_ADVICE);
  cl_pushtext(L, X_ADV(text), &v, 1);
  lua_rawset(L, t);
  pushkey(L, K_MATCHED);
  switch (v.by) {
  case SMTPCODE_BY_TEXT: cl_pushrule(L, cache, v.rule); break;
  case SMTPCODE_BY_ENHANCED: cl_pushenhcached(L, cache, CL_BYENH, &v); break;
  case SMTPCODE_BY_CLASS: cl_pushenhcached(L, cache, CL_BYCLS, &v); break;
  case SMTPCODE_BY_REPLY: cl_pushreply(L, cache, v.code); break;
  case SMTPCODE_BY_USER:
    if (umatched)
      lua_pushstring(L, umatched);
    else
      lua_pushliteral(L, "user rule");
    break;
  default:
    if (v.code)
      cl_pushreply(L, cache, v.code);
    else if (v.cls)
      cl_pushenhcached(L, cache, CL_BYENH, &v);
    else
      lua_pushnil(L);
    break;
  }
  lua_rawset(L, t);
  cl_set(L, t, K_MISMATCH, v.flags & SMTPCODE_V_MISMATCH,
         lua_pushboolean(L, 1));
  cl_set(L, t, K_TRUNCATED, v.flags & SMTPCODE_V_TRUNCATED,
         lua_pushboolean(L, 1));
  cl_set(L, t, K_DELAYED, v.flags & SMTPCODE_V_DELAYED,
         lua_pushboolean(L, 1));
  if (ureason == 0 && !skipuser && v.reason != SMTPCODE_REASON_NONE) {
    lua_rawgeti(L, lua_upvalueindex(K_USER), 1);
    if (!lua_isnil(L, -1)) { /* hook(x, opts, into, result) */
      lua_pushvalue(L, 1);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, 3);
      lua_pushvalue(L, t);
      lua_call(L, 4, 1);
    } else
      lua_pop(L, 1);
  }
  return 1;
}

/* _set_hook(fn | nil): the user-rule hook of classify (lua/smtpcode.lua) */
static int l_set_hook(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && lua_type(L, 1) != LUA_TFUNCTION)
    return sc_typeerror(L, 1, "_set_hook", "function or nil");
  lua_settop(L, 1);
  lua_rawseti(L, lua_upvalueindex(K_USER), 1);
  return 0;
}

/* reasons() -> { "user_unknown", ... }, { "recipient", ... } */
static int l_reasons(lua_State *L) {
  int i;
  lua_createtable(L, SMTPCODE_REASON_COUNT - 1, 0);
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++) {
    lua_pushstring(L, smtpcode_reason_name(i));
    lua_rawseti(L, -2, i);
  }
  lua_createtable(L, SMTPCODE_SCOPE_SESSION, 0);
  for (i = 1; i <= SMTPCODE_SCOPE_SESSION; i++) {
    lua_pushstring(L, smtpcode_scope_name(i));
    lua_rawseti(L, -2, i);
  }
  return 2;
}

/* reason_records() -> { { name = "user_unknown", scope = "recipient",
** hard = true, ... }, ... }: smtpcode_reason_get of every reason, in
** order; a text field is absent when the core has none. */
static int l_reason_records(lua_State *L) {
  static const char *const keys[] = {
    "label", "description", "advice_transient", "advice_permanent",
    "who_transient", "todo_transient", "who_permanent", "todo_permanent",
    "who_nocode", "todo_nocode"
  };
  int i, k;
  lua_createtable(L, SMTPCODE_REASON_COUNT - 1, 0);
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++) {
    const smtpcode_reason_info *r = smtpcode_reason_get(i);
    const char *texts[10];
    texts[0] = r->label;
    texts[1] = r->description;
    texts[2] = r->advice_transient;
    texts[3] = r->advice_permanent;
    texts[4] = r->who_transient;
    texts[5] = r->todo_transient;
    texts[6] = r->who_permanent;
    texts[7] = r->todo_permanent;
    texts[8] = r->who_nocode;
    texts[9] = r->todo_nocode;
    lua_createtable(L, 0, 14);
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, smtpcode_scope_name(r->scope));
    lua_setfield(L, -2, "scope");
    lua_pushboolean(L, r->hard);
    lua_setfield(L, -2, "hard");
    lua_pushboolean(L, r->nocode_retry);
    lua_setfield(L, -2, "nocode_retry");
    for (k = 0; k < 10; k++) {
      if (texts[k] == NULL) continue;
      lua_pushstring(L, texts[k]);
      lua_setfield(L, -2, keys[k]);
    }
    lua_rawseti(L, -2, i);
  }
  return 1;
}

/* rule_count() -> number of built-in text rules */
static int l_rule_count(lua_State *L) {
  lua_pushinteger(L, smtpcode_rule_count());
  return 1;
}

/* }====================================================== */

/*
** {======================================================
** find: locate a reply in free text
** =======================================================
*/

/*
** Push the text of reply f. A multi-line reply ("550-5.1.1 a\r\n550 5.1.1
** b") gives its lines joined with "\n", each without its code prefix.
*/
static void find_pushtext(lua_State *L, const char *s, const smtpcode_found *f) {
  const char *p = s + f->text_off, *e = p + f->text_len;
  luaL_Buffer b;
  if (f->nlines <= 1 || f->code_off < 0) {
    lua_pushlstring(L, p, (size_t)f->text_len);
    return;
  }
  luaL_buffinit(L, &b);
  while (p < e) {
    const char *q = p;
    while (q < e && *q != '\r' && *q != '\n') q++;
    luaL_addlstring(&b, p, (size_t)(q - p));
    if (q >= e) break;
    luaL_addchar(&b, '\n');
    if (*q == '\r' && q + 1 < e && q[1] == '\n') q++;
    p = q + 1;
    /* drop "550-" / "550 " and a repeated enhanced code */
    if (e - p >= 3 && memcmp(p, s + f->code_off, 3) == 0) {
      p += 3;
      if (p < e && (*p == '-' || *p == ' ')) p++;
      if (f->enh_len > 0) {
        const char *d = p;
        while (d < e && ((*d >= '0' && *d <= '9') || *d == '.')) d++;
        if (d > p && (d == e || *d == ' ') && p[0] >= '2' && p[0] <= '5' &&
            p + 1 < e && p[1] == '.') {
          p = d;
          while (p < e && *p == ' ') p++;
        }
      }
    }
  }
  luaL_pushresult(&b);
}

static void find_setint(lua_State *L, const char *k, int present, int v) {
  lua_pushstring(L, k);
  if (present)
    lua_pushinteger(L, v);
  else
    lua_pushnil(L);
  lua_rawset(L, -3);
}

static void find_push(lua_State *L, const char *s, const smtpcode_found *f,
                      const smtpcode_found *in) {
  int t;
  lua_createtable(L, 0, 16);
  t = lua_gettop(L);
  setint(L, t, K_CODE, f->code != 0, f->code);
  pushkey(L, K_ENHANCED);
  if (f->cls)
    lua_pushlstring(L, s + f->enh_off, (size_t)f->enh_len);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
  setint(L, t, K_CLASS, f->cls, f->cls);
  setint(L, t, K_SUBJECT, f->cls, f->subject);
  setint(L, t, K_DETAIL, f->cls, f->detail);
  pushkey(L, K_TEXT);
  find_pushtext(L, s, f);
  lua_rawset(L, t);
  find_setint(L, "start", 1, f->start + 1);
  find_setint(L, "stop", 1, f->end);
  find_setint(L, "code_pos", f->code_off >= 0, f->code_off + 1);
  find_setint(L, "enhanced_pos", f->cls, f->enh_off + 1);
  lua_pushliteral(L, "how");
  if (f->how == SMTPCODE_HOW_REPLY)
    lua_pushliteral(L, "reply");
  else
    lua_pushliteral(L, "status");
  lua_rawset(L, t);
  setflag(L, t, K_MISMATCH, f->flags & SMTPCODE_F_MISMATCH);
  setflag(L, t, K_NONSTANDARD, f->flags & SMTPCODE_F_NONSTANDARD);
  lua_pushliteral(L, "weak");
  lua_pushboolean(L, (f->flags & SMTPCODE_F_BARE) != 0);
  if (!(f->flags & SMTPCODE_F_BARE)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  lua_rawset(L, t);
  if (in != NULL && in->how != SMTPCODE_HOW_NONE) {
    lua_pushliteral(L, "inner");
    find_push(L, s, in, NULL);
    lua_rawset(L, t);
  }
}

/* find(text) -> table | nil */
static int l_find(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "find", &len);
  smtpcode_found out, in;
  if (smtpcode_find(s, len, &out, &in) < 0) {
    lua_pushnil(L);
    return 1;
  }
  find_push(L, s, &out, &in);
  return 1;
}
/* }====================================================== */

/*
** {======================================================
** Registry (what every code means): raw entries for lua/smtpcode.lua, which builds the
** tables of describe() and codes(). Integer arguments come from the front
** module; anything that is not a number reads as -1 (no match).
** =======================================================
*/
static int reg_int(lua_State *L, int arg) {
  lua_Number v;
  if (lua_type(L, arg) != LUA_TNUMBER) return -1;
  v = lua_tonumber(L, arg);
  if (!(v >= -1 && v <= 1000000)) return -1;
  return (int)v;
}

static void reg_setstr(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void reg_setint(lua_State *L, const char *k, int v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* Push one entry as a table, or nil. */
static void reg_push(lua_State *L, const smtpcode_entry *e) {
  if (e == NULL) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, 0, 16);
  reg_setstr(L, "kind", smtpcode_regkind_name(e->kind));
  reg_setstr(L, "standard", smtpcode_standard_name(e->standard));
  if (e->reply > 0) reg_setint(L, "reply", e->reply);
  if (e->kind == SMTPCODE_REG_CLASS || e->kind == SMTPCODE_REG_PAIR)
    reg_setint(L, "cls", e->cls);
  if (e->subject >= 0) reg_setint(L, "subject", e->subject);
  if (e->detail >= 0) reg_setint(L, "detail", e->detail);
  if (e->detail_hi >= 0) reg_setint(L, "detail_hi", e->detail_hi);
  if (e->position > 0) reg_setint(L, "position", e->position);
  if (e->mask != 0) reg_setint(L, "mask", e->mask);
  reg_setstr(L, "code", e->code);
  reg_setstr(L, "title", e->title);
  reg_setstr(L, "description", e->description);
  reg_setstr(L, "references", e->references);
  reg_setstr(L, "remarks", e->remarks);
  reg_setstr(L, "commands", e->commands);
  reg_setstr(L, "emitted_by", e->emitted_by);
  reg_setstr(L, "basic_codes", e->basic_codes);
  reg_setstr(L, "class_note", e->class_note);
  reg_setstr(L, "control", e->control);
  reg_setstr(L, "provider", e->provider);
  reg_setstr(L, "example", e->example);
  reg_setstr(L, "source", e->source);
}

/* Kind given by name ("reply", "enhanced", ...), 0 if unknown. */
static int reg_kind(lua_State *L, int arg) {
  const char *name = lua_tostring(L, arg);
  int k;
  if (name == NULL || lua_type(L, arg) != LUA_TSTRING) return 0;
  for (k = 1; smtpcode_regkind_name(k) != NULL; k++)
    if (strcmp(name, smtpcode_regkind_name(k)) == 0) return k;
  return 0;
}

/* registry_count(kind) -> n (0 for an unknown kind) */
static int l_registry_count(lua_State *L) {
  lua_pushinteger(L, smtpcode_registry_count(reg_kind(L, 1)));
  return 1;
}

/* registry_at(kind, i) -> entry of row i (1-based) or nil */
static int l_registry_at(lua_State *L) {
  reg_push(L, smtpcode_registry_at(reg_kind(L, 1), reg_int(L, 2) - 1));
  return 1;
}

/* reply_info(code) -> entry or nil */
static int l_reply_info(lua_State *L) {
  reg_push(L, smtpcode_reply_info(reg_int(L, 1)));
  return 1;
}

/* reply_alt(code, i) -> i-th (1-based) extension meaning or nil */
static int l_reply_alt(lua_State *L) {
  reg_push(L, smtpcode_reply_alt(reg_int(L, 1), reg_int(L, 2) - 1));
  return 1;
}

/* reply_digit(position, digit) -> entry or nil */
static int l_reply_digit(lua_State *L) {
  reg_push(L, smtpcode_reply_digit(reg_int(L, 1), reg_int(L, 2)));
  return 1;
}

/* enhanced_info(cls, subject, detail) -> entry, fallback name | nil */
static int l_enhanced_info(lua_State *L) {
  int fb;
  const smtpcode_entry *e =
      smtpcode_enhanced_info(reg_int(L, 1), reg_int(L, 2), reg_int(L, 3), &fb);
  reg_push(L, e);
  if (e == NULL || fb == SMTPCODE_FB_NONE)
    lua_pushnil(L);
  else
    lua_pushstring(L, smtpcode_fallback_name(fb));
  return 2;
}

/* class_info(cls), subject_info(subject) -> entry or nil */
static int l_class_info(lua_State *L) {
  reg_push(L, smtpcode_class_info(reg_int(L, 1)));
  return 1;
}

static int l_subject_info(lua_State *L) {
  reg_push(L, smtpcode_subject_info(reg_int(L, 1)));
  return 1;
}

/* pair_info(reply, cls, subject, detail) -> entry or nil */
static int l_pair_info(lua_State *L) {
  reg_push(L, smtpcode_pair_info(reg_int(L, 1), reg_int(L, 2), reg_int(L, 3),
                                 reg_int(L, 4)));
  return 1;
}

#define REG_MAXNOTES 32

/* notes(reply|nil, cls|nil, subject, detail) -> array of note entries */
static int l_notes(lua_State *L) {
  const smtpcode_entry *out[REG_MAXNOTES];
  int n = smtpcode_notes(reg_int(L, 1), reg_int(L, 2), reg_int(L, 3),
                         reg_int(L, 4), out, REG_MAXNOTES);
  int i;
  if (n > REG_MAXNOTES) n = REG_MAXNOTES;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    reg_push(L, out[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}
/* }====================================================== */

static const luaL_Reg funcs[] = {
  {"parse", l_parse},
  {"scan", l_scan},
  {"status", l_status},
  {"classify", l_classify},
  {"_set_hook", l_set_hook},
  {"reasons", l_reasons},
  {"reason_records", l_reason_records},
  {"rule_count", l_rule_count},
  {"find", l_find},
  {"registry_count", l_registry_count},
  {"registry_at", l_registry_at},
  {"reply_info", l_reply_info},
  {"reply_alt", l_reply_alt},
  {"reply_digit", l_reply_digit},
  {"enhanced_info", l_enhanced_info},
  {"class_info", l_class_info},
  {"subject_info", l_subject_info},
  {"pair_info", l_pair_info},
  {"notes", l_notes},
  {NULL, NULL}
};

SMTPCODE_API int luaopen_smtpcode_core(lua_State *L);
int smtpcode_open_bounce(lua_State *L); /* src/lua/lbounce.c */

SMTPCODE_API int luaopen_smtpcode_core(lua_State *L) {
  int i;
  luaL_checkstack(L, 2 * K_NUP + 4, "smtpcode");
  lua_newtable(L);
  for (i = 0; i < K_COUNT; i++) lua_pushstring(L, keynames[i]);
  lua_createtable(L, smtpcode_rule_count() + 400, 64); /* K_CACHE */
  lua_createtable(L, 1, 0);                            /* K_USER */
  sc_setfuncs(L, funcs, K_NUP);
  /* classify again, with its own strings after the shared upvalues */
  luaL_checkstack(L, X_NUP + 4, "smtpcode");
  lua_getfield(L, -1, "_set_hook"); /* a closure that has them all */
  for (i = 1; i <= K_NUP; i++) {
    lua_getupvalue(L, -i, i);
  }
  lua_remove(L, -(K_NUP + 1));
  cl_pushtexts(L);
  lua_pushcclosure(L, l_classify, X_NUP);
  lua_setfield(L, -2, "classify");
  lua_pushliteral(L, SMTPCODE_VERSION);
  lua_setfield(L, -2, "_VERSION");
  pushlayout(L);
  lua_setfield(L, -2, "_layout");
  pushconstants(L);
  lua_setfield(L, -2, "_constants");
  smtpcode_lstream_open(L); /* reader and format (lstream.c) */
  smtpcode_open_bounce(L);
  return 1;
}
