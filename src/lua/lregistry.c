/*
** lregistry.c: the registry (what every code means)
** (part of the Lua binding smtpcode.core; see lsmtpcode.c).
*/
#include "lsmtpcode.h"

/*
** {======================================================
** Registry (what every code means): raw entries for lua/smtpcode/describe.lua, which builds the
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

const luaL_Reg smtpcode_lregistry_funcs[] = {
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
