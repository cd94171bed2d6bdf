/*
** lsmtpcode.h: what the files of the Lua binding share (src/lua/ only):
** the interned strings every function of smtpcode.core keeps as upvalues,
** argument errors, and small pushes used on the hot paths (inline, as they
** were when the binding was one file).
*/
#ifndef smtpcode_lsmtpcode_h
#define smtpcode_lsmtpcode_h

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

/*
** {======================================================
** Interned strings, kept as upvalues of every function
** (their texts: keynames in lsmtpcode.c)
** =======================================================
*/
enum {
  K_CODE = 1, K_SEVERITY, K_ENHANCED, K_CLASS, K_SUBJECT, K_DETAIL, K_TEXT,
  K_LINES, K_MISMATCH, K_NONSTANDARD, K_VARIES, K_LENGTH,
  K_SUCCESS, K_INTERMEDIATE, K_TRANSIENT, K_PERMANENT, K_UNKNOWN,
  K_LENIENT, K_MAX_LINE, K_MAX_LINES, K_MAX_REPLY,
  K_REASON, K_SCOPE, K_BOUNCE, K_RETRY, K_DESCRIPTION, K_ADVICE, K_MATCHED,
  K_TRUNCATED, K_HARD, K_SOFT,
  K_DELAYED, K_BY,
  K_COUNT = K_BY,
  /* tables follow the strings: classify's string cache, the slot of the
     user-rule hook (see classify below), the error texts of parse and
     scan once made, and the enhanced codes' strings once made (lparse.c) */
  K_CACHE, K_USER, K_ERRS, K_ENHS,
  K_NUP = K_ENHS
};

/* parse's and scan's error texts are kept for lines 1..ERR_LINES, in the
   K_ERRS table's array part (ERR_LINES * 8 + 7 slots; lparse.c) */
#define ERR_LINES 32

/* parse and scan keep the strings of the enhanced codes
   class.subject.detail with subject below ENH_SUBJECTS and detail below
   ENH_DETAILS, once made, in the K_ENHS table's array part (3 classes,
   ENH_SLOTS slots; lparse.c) */
#define ENH_SUBJECTS 8
#define ENH_DETAILS 32
#ifdef LUA_LJDIR /* LuaJIT's luaconf.h: not kept there (lparse.c) */
#define ENH_SLOTS 0
#else
#define ENH_SLOTS (3 * ENH_SUBJECTS * ENH_DETAILS)
#endif

#define pushkey(L, k) lua_pushvalue((L), lua_upvalueindex(k))

/* The interned name of a severity (smtpcode_severity), by its value. */
static const unsigned char sevkeys[SMTPCODE_SEV_PERMANENT + 1] = {
  K_UNKNOWN, K_UNKNOWN, K_SUCCESS, K_INTERMEDIATE, K_TRANSIENT, K_PERMANENT
};
/* }====================================================== */

/* Raise "bad argument #arg to 'fname' (msg)" (lsmtpcode.c). */
int sc_argerror(lua_State *L, int arg, const char *fname, const char *msg);
/* Raise "bad argument #arg to 'fname' (expected expected, got type)". */
int sc_typeerror(lua_State *L, int arg, const char *fname,
                 const char *expected);

static inline const char *checkstr(lua_State *L, int arg, const char *fname,
                            size_t *len) {
  if (lua_type(L, arg) != LUA_TSTRING) sc_typeerror(L, arg, fname, "string");
  return lua_tolstring(L, arg, len);
}

/* t[key] = v or nil; t is at idx (absolute) */
static inline void setint(lua_State *L, int t, int key, int present, int v) {
  pushkey(L, key);
  if (present)
    lua_pushinteger(L, v);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
}

static inline void setflag(lua_State *L, int t, int key, int on) {
  pushkey(L, key);
  if (on)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  lua_rawset(L, t);
}

/* The functions of each concern, registered by luaopen_smtpcode_core with
** the upvalues above. */
extern const luaL_Reg smtpcode_lparse_funcs[];    /* lparse.c */
extern const luaL_Reg smtpcode_lclassify_funcs[]; /* lclassify.c */
extern const luaL_Reg smtpcode_lfind_funcs[];     /* lfind.c */
extern const luaL_Reg smtpcode_lregistry_funcs[]; /* lregistry.c */
/* Replace classify in the table on the top with a closure that has its
** own strings after the shared upvalues (lclassify.c). */
void smtpcode_lclassify_open(lua_State *L);

#endif
