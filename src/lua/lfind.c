/*
** lfind.c: find, a reply in free text
** (part of the Lua binding smtpcode.core; see lsmtpcode.c).
*/
#include "lsmtpcode.h"

/*
** {======================================================
** find: locate a reply in free text
** =======================================================
*/

/*
** Push the text of reply f: its spans from the core (smtpcode_text_next),
** a line break between lines. One span is pushed as it is.
*/
static void find_pushtext(lua_State *L, const char *s, size_t len,
                          const smtpcode_found *f) {
  size_t pos = 0, off, n, off2, n2;
  luaL_Buffer b;
  int k = smtpcode_text_next(s, len, f, &pos, &off, &n);
  if (k == SMTPCODE_SPAN_END) {
    lua_pushliteral(L, "");
    return;
  }
  k = smtpcode_text_next(s, len, f, &pos, &off2, &n2);
  if (k == SMTPCODE_SPAN_END) {
    lua_pushlstring(L, s + off, n);
    return;
  }
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, s + off, n);
  do {
    if (k == SMTPCODE_SPAN_LINE) luaL_addchar(&b, '\n');
    luaL_addlstring(&b, s + off2, n2);
  } while ((k = smtpcode_text_next(s, len, f, &pos, &off2, &n2)) !=
           SMTPCODE_SPAN_END);
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

static void find_push(lua_State *L, const char *s, size_t len,
                      const smtpcode_found *f, const smtpcode_found *in) {
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
  find_pushtext(L, s, len, f);
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
    find_push(L, s, len, in, NULL);
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
  find_push(L, s, len, &out, &in);
  return 1;
}
/* }====================================================== */

const luaL_Reg smtpcode_lfind_funcs[] = {
  {"find", l_find},
  {NULL, NULL}
};
