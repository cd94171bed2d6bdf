/*
** lsmtpcode.c: the Lua C API binding of the smtpcode core (module
** "smtpcode.core"). src/lua/ is the only folder that includes Lua headers.
** Written against the Lua 5.3/5.4 API, with a few private back-ports for
** Lua 5.1 and LuaJIT.
**
** This file is the hub: the interned strings every function keeps as
** upvalues, argument errors, the layout and constants for the FFI backend,
** and luaopen_smtpcode_core. One file per concern holds the functions:
** lparse.c (parse, scan, status), lclassify.c (classify, reasons, the
** user-rule hook), lfind.c (find), lregistry.c (the registry tables of
** describe and codes), lstream.c (reader, format), lbounce.c (bounce);
** lsmtpcode.h is what they share.
*/
#include "bounce.h"
#include "lsmtpcode.h"
#include "lstream.h"

/* luaL_setfuncs with upvalues, for Lua 5.1 (LuaJIT has it, 5.1 has not),
** except that the nup upvalues stay on the stack for the next list. */
static void sc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
}

/* The texts of the interned strings K_CODE .. K_BY (lsmtpcode.h). */
static const char *const keynames[K_COUNT] = {
  "code", "severity", "enhanced", "class", "subject", "detail", "text",
  "lines", "mismatch", "nonstandard", "enhanced_varies", "length",
  "success", "intermediate", "transient", "permanent", "unknown",
  "lenient", "max_line", "max_lines", "max_reply",
  "reason", "scope", "bounce", "retry", "description", "advice", "matched",
  "truncated", "hard", "soft",
  "delayed", "by"
};

/*
** Raise "bad argument #arg to 'fname' (msg)". The function name is given
** explicitly so the message is the same on every Lua version.
*/
int sc_argerror(lua_State *L, int arg, const char *fname,
                const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

int sc_typeerror(lua_State *L, int arg, const char *fname,
                 const char *expected) {
  int t = lua_type(L, arg);
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected,
                                    t == LUA_TNONE ? "nil" : lua_typename(L, t));
  return sc_argerror(L, arg, fname, msg);
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

/* The structs the FFI backend declares: sizes and every field's offset. */
static void pushlayout(lua_State *L) {
  lua_newtable(L);
  SIZE(smtpcode_line);
  LAYOUT(smtpcode_line, code);
  LAYOUT(smtpcode_line, cls);
  LAYOUT(smtpcode_line, subject);
  LAYOUT(smtpcode_line, detail);
  LAYOUT(smtpcode_line, flags);
  LAYOUT(smtpcode_line, enh_off);
  LAYOUT(smtpcode_line, enh_len);
  LAYOUT(smtpcode_line, text_off);
  LAYOUT(smtpcode_line, text_len);
  LAYOUT(smtpcode_line, length);
  SIZE(smtpcode_reply);
  LAYOUT(smtpcode_reply, code);
  LAYOUT(smtpcode_reply, cls);
  LAYOUT(smtpcode_reply, subject);
  LAYOUT(smtpcode_reply, detail);
  LAYOUT(smtpcode_reply, flags);
  LAYOUT(smtpcode_reply, enh_off);
  LAYOUT(smtpcode_reply, enh_len);
  LAYOUT(smtpcode_reply, nlines);
  LAYOUT(smtpcode_reply, length);
  SIZE(smtpcode_verdict);
  LAYOUT(smtpcode_verdict, code);
  LAYOUT(smtpcode_verdict, cls);
  LAYOUT(smtpcode_verdict, subject);
  LAYOUT(smtpcode_verdict, detail);
  LAYOUT(smtpcode_verdict, severity);
  LAYOUT(smtpcode_verdict, reason);
  LAYOUT(smtpcode_verdict, bounce);
  LAYOUT(smtpcode_verdict, retry);
  LAYOUT(smtpcode_verdict, scope);
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
  CONST(MAX_TEXT); CONST(MAX_CLASSIFY); CONST(BOUNCE_MAX_SIZE);
  CONST(MESSAGE_MAX);
  /* the FFI backend's classify reads these fields of smtpcode_verdict */
  CONST(V_MISMATCH); CONST(V_TRUNCATED); CONST(V_DELAYED);
  CONST(BY_NONE); CONST(BY_TEXT); CONST(RETRY_NO); CONST(RETRY_YES);
#undef CONST
}

/* The names of the severities (by smtpcode_severity) and of the bounce
** kinds (by smtpcode_bounce), the binding's interned strings, for the FFI
** backend. */
static void pushnames(lua_State *L) {
  int i;
  lua_createtable(L, 6, 1);
  for (i = 0; i <= SMTPCODE_SEV_PERMANENT; i++) {
    lua_pushstring(L, keynames[sevkeys[i] - 1]);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "_severity_names");
  lua_createtable(L, 2, 0);
  lua_pushstring(L, keynames[K_SOFT - 1]);
  lua_rawseti(L, -2, SMTPCODE_BOUNCE_SOFT);
  lua_pushstring(L, keynames[K_HARD - 1]);
  lua_rawseti(L, -2, SMTPCODE_BOUNCE_HARD);
  lua_setfield(L, -2, "_bounce_names");
  lua_createtable(L, 0, 5); /* "syntax", ... by negative status */
  for (i = -1; smtpcode_status_name(i) != NULL; i--) {
    lua_pushstring(L, smtpcode_status_name(i));
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "_status_names");
}

/* The concerns, each in its own file; all get the upvalues K_CODE ..
** K_USER. */
static const luaL_Reg *const concerns[] = {
  smtpcode_lparse_funcs, smtpcode_lclassify_funcs, smtpcode_lfind_funcs,
  smtpcode_lregistry_funcs, NULL
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
  lua_createtable(L, ERR_LINES * 8 + 7, 0);            /* K_ERRS */
  lua_createtable(L, ENH_SLOTS, 0);                    /* K_ENHS */
  for (i = 0; concerns[i] != NULL; i++) sc_setfuncs(L, concerns[i], K_NUP);
  lua_pop(L, K_NUP);
  smtpcode_lclassify_open(L); /* classify with its own strings */
  lua_pushliteral(L, SMTPCODE_VERSION);
  lua_setfield(L, -2, "_VERSION");
  pushlayout(L);
  lua_setfield(L, -2, "_layout");
  pushconstants(L);
  lua_setfield(L, -2, "_constants");
  pushnames(L);
  smtpcode_lstream_open(L); /* reader and format (lstream.c) */
  smtpcode_open_bounce(L);
  return 1;
}
