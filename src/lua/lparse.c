/*
** lparse.c: parse, scan and status: replies and enhanced codes
** (part of the Lua binding smtpcode.core; see lsmtpcode.c).
*/
#include "lsmtpcode.h"
#include "replyline.h"
#include "severity.h"

static void pushseverity(lua_State *L, int code) {
  int sev = smtpcode_severity_inline(code);
  pushkey(L, sevkeys[sev >= 0 && sev <= 5 ? sev : 0]);
}

/* Push the enhanced code of s, class.subject.detail at off, len bytes.
** On PUC Lua the common codes' strings are kept in the K_ENHS table once
** made (an integer index and an array slot cost less than hashing the text
** and finding its interned string); the text is the numbers written
** without leading zeros, which its length confirms. LuaJIT interns a short
** string for about what the lookup costs: there the text is pushed as it
** is (see ENH_SLOTS). */
static void pushenhanced(lua_State *L, const char *s, int cls, int subject,
                         int detail, int off, int len) {
#if ENH_SLOTS > 0
  const int enhs = lua_upvalueindex(K_ENHS);
  int k;
  if (subject < ENH_SUBJECTS && detail < ENH_DETAILS &&
      len == 5 + (detail >= 10)) {
    k = ((cls == 2 ? 0 : cls - 3) * ENH_SUBJECTS + subject) * ENH_DETAILS +
        detail + 1;
#if LUA_VERSION_NUM >= 503
    if (lua_rawgeti(L, enhs, k) == LUA_TSTRING) return;
#else
    lua_rawgeti(L, enhs, k);
    if (lua_isstring(L, -1)) return;
#endif
    lua_pop(L, 1);
    lua_pushlstring(L, s + off, (size_t)len);
    lua_pushvalue(L, -1);
    lua_rawseti(L, enhs, k);
    return;
  }
#else
  (void)cls;
  (void)subject;
  (void)detail;
#endif
  lua_pushlstring(L, s + off, (size_t)len);
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

/* Push nil, message, code for a failed parse (the message is the
** core's, smtpcode_status_message; the code its smtpcode_status_name).
** Both depend on nothing but the status and the line: the first ERR_LINES
** lines' are kept in the K_ERRS table once made (in its array part, made
** for them in lsmtpcode.c), the message at line * 8 + -status, the name at
** -status. Returns 3. */

static void pushmessage(lua_State *L, int status, int line) {
  char msg[SMTPCODE_MESSAGE_MAX];
  smtpcode_status_message(status, line, msg, sizeof msg);
  lua_pushstring(L, msg);
}

/* lua_rawgeti, true when it pushed a string */
#if LUA_VERSION_NUM >= 503
#define rawgetstr(L, t, i) (lua_rawgeti((L), (t), (i)) == LUA_TSTRING)
#else
#define rawgetstr(L, t, i) (lua_rawgeti((L), (t), (i)), lua_isstring((L), -1))
#endif

static int pusherror(lua_State *L, int status, int line) {
  const int errs = lua_upvalueindex(K_ERRS);
  int k = -status;
  lua_pushnil(L);
  if (k < 1 || k > 7 || line < 1 || line > ERR_LINES) {
    pushmessage(L, status, line);
    lua_pushstring(L, smtpcode_status_name(status));
    return 3;
  }
  if (!rawgetstr(L, errs, line * 8 + k)) {
    lua_pop(L, 1);
    pushmessage(L, status, line);
    lua_pushvalue(L, -1);
    lua_rawseti(L, errs, line * 8 + k);
  }
  if (!rawgetstr(L, errs, k)) {
    lua_pop(L, 1);
    lua_pushstring(L, smtpcode_status_name(status));
    lua_pushvalue(L, -1);
    lua_rawseti(L, errs, k);
  }
  return 3;
}

#define STACK_LINES 16

/*
** parse(reply [, opts [, into]]). A new table gets only the fields that
** are present (it has no others to clear); into gets every field, nil
** included, so that nothing of an earlier reply stays.
*/
static int l_parse(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "parse", &len);
  smtpcode_opts ob;
  const smtpcode_opts *o = NULL;
  smtpcode_line stack[STACK_LINES];
  smtpcode_line *lines = stack;
  smtpcode_reply r;
  int n, i, t, lt = 0, top, fresh = 1, old = 0;
  size_t pos;

  if ((top = lua_gettop(L)) > 1) {
    int t3;
    o = getopts(L, 2, "parse", &ob);
    t3 = lua_type(L, 3);
    if (t3 == LUA_TTABLE)
      fresh = 0;
    else if (t3 != LUA_TNONE && t3 != LUA_TNIL)
      sc_typeerror(L, 3, "parse", "table");
  }
  if (o == NULL) /* the common call: the core's reader inline */
    n = parse_reply(s, len, 0, (size_t)SMTPCODE_MAX_LINE, SMTPCODE_MAX_LINES,
                    (size_t)SMTPCODE_MAX_REPLY, &r, lines, STACK_LINES);
  else
    n = smtpcode_parse_reply(s, len, o, &r, lines, STACK_LINES);
  if (n < 0) return pusherror(L, n, r.nlines);
  if (r.nlines > STACK_LINES) { /* rare: parse again into a GC'd buffer */
    lines = (smtpcode_line *)lua_newuserdata(L, sizeof(smtpcode_line) *
                                                    (size_t)r.nlines);
    n = smtpcode_parse_reply(s, len, o, &r, lines, r.nlines);
    top++;
  }
  if (fresh) { /* sized for the fields it gets */
    int nf = 5; /* code, severity, text, lines, length */
    if (r.cls) nf += 4;
    if (r.flags & (SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD |
                   SMTPCODE_F_ENH_VARIES))
      nf += 3;
    lua_createtable(L, 0, nf);
    t = ++top;
    pushkey(L, K_LINES); /* lines: a new table, set as t.lines at the end */
    lua_createtable(L, r.nlines, 0);
    lt = top + 2;
  } else { /* lines: into.lines when it is a table */
    t = 3;
    pushkey(L, K_LINES);
    lua_rawget(L, t);
    if (lua_istable(L, -1)) {
      lt = ++top;
      old = (int)sc_rawlen(L, lt);
    } else {
      lua_pop(L, 1);
      lua_createtable(L, r.nlines, 0);
      pushkey(L, K_LINES);
      lua_pushvalue(L, -2);
      lua_rawset(L, t);
      lt = ++top;
    }
  }
  pos = 0;
  for (i = 0; i < r.nlines; i++) {
    lua_pushlstring(L, s + pos + (size_t)lines[i].text_off,
                    (size_t)lines[i].text_len);
    if (r.nlines == 1) { /* text: the one line's, the same string */
      pushkey(L, K_TEXT);
      lua_pushvalue(L, -2);
      lua_rawset(L, t);
    }
    lua_rawseti(L, lt, i + 1);
    pos += (size_t)lines[i].length;
  }
  for (i = r.nlines + 1; i <= old; i++) {
    lua_pushnil(L);
    lua_rawseti(L, lt, i);
  }
  /* text: the line texts joined with "\n" */
  if (r.nlines != 1) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pos = 0;
    for (i = 0; i < r.nlines; i++) {
      if (i > 0) luaL_addchar(&b, '\n');
      luaL_addlstring(&b, s + pos + (size_t)lines[i].text_off,
                      (size_t)lines[i].text_len);
      pos += (size_t)lines[i].length;
    }
    luaL_pushresult(&b);
    pushkey(L, K_TEXT);
    lua_insert(L, -2);
    lua_rawset(L, t);
  }
  pushkey(L, K_CODE);
  lua_pushinteger(L, r.code);
  lua_rawset(L, t);
  pushkey(L, K_SEVERITY);
  pushseverity(L, r.code);
  lua_rawset(L, t);
  if (r.cls) {
    pushkey(L, K_ENHANCED);
    pushenhanced(L, s, r.cls, r.subject, r.detail, r.enh_off, r.enh_len);
    lua_rawset(L, t);
    pushkey(L, K_CLASS);
    lua_pushinteger(L, r.cls);
    lua_rawset(L, t);
    pushkey(L, K_SUBJECT);
    lua_pushinteger(L, r.subject);
    lua_rawset(L, t);
    pushkey(L, K_DETAIL);
    lua_pushinteger(L, r.detail);
    lua_rawset(L, t);
  } else if (!fresh) {
    setint(L, t, K_ENHANCED, 0, 0);
    setint(L, t, K_CLASS, 0, 0);
    setint(L, t, K_SUBJECT, 0, 0);
    setint(L, t, K_DETAIL, 0, 0);
  }
  if (!fresh || (r.flags & (SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD |
                            SMTPCODE_F_ENH_VARIES))) {
    setflag(L, t, K_MISMATCH, r.flags & SMTPCODE_F_MISMATCH);
    setflag(L, t, K_NONSTANDARD, r.flags & SMTPCODE_F_NONSTANDARD);
    setflag(L, t, K_VARIES, r.flags & SMTPCODE_F_ENH_VARIES);
  }
  pushkey(L, K_LENGTH);
  lua_pushinteger(L, n);
  lua_rawset(L, t);
  if (fresh)
    lua_rawset(L, t); /* t.lines */
  else
    lua_settop(L, t);
  return 1;
}

/* scan(line [, opts]) -> code, severity, enhanced|nil, text, continued */
static int l_scan(lua_State *L) {
  size_t len;
  const char *s = checkstr(L, 1, "scan", &len);
  smtpcode_opts ob;
  const smtpcode_opts *o = NULL;
  smtpcode_line ln;
  int r;
  if (lua_gettop(L) > 1) o = getopts(L, 2, "scan", &ob);
  if (o == NULL) /* the common call: the core's reader inline */
    r = parse_line(s, len, 0, (size_t)SMTPCODE_MAX_LINE, &ln);
  else
    r = smtpcode_parse_line(s, len, o, &ln);
  if (r < 0) return pusherror(L, r, 1);
  lua_pushinteger(L, ln.code);
  pushseverity(L, ln.code);
  if (ln.cls)
    pushenhanced(L, s, ln.cls, ln.subject, ln.detail, ln.enh_off, ln.enh_len);
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

const luaL_Reg smtpcode_lparse_funcs[] = {
  {"parse", l_parse},
  {"scan", l_scan},
  {"status", l_status},
  {NULL, NULL}
};
