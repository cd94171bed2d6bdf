/*
** bench/shape_floor.c: the floor of `parse` on PUC Lua -- the documented
** result table built with no parsing at all, through the public API, so
** that bench/cg.sh can show what the shape itself costs beside `parse`.
** Two ways, each a row of the shared harness (bench/harness.lua adds them
** when SMTPCODE_SHAPE_FLOOR names this module, built by bench/cg.sh):
**   shape_floor_rawset  lua_createtable sized for nine keys, the keys kept
**                       as upvalues, lua_rawset: what parse does
**   shape_floor_ctor    a Lua table constructor ({code = ..., lines =
**                       {text}, ...}) called from C with the values
** Each takes a line that starts like a one-line reply as a reply with code
** 550 and enhanced code "5.1.1" and the text after the first four bytes
** (nine keys when the text starts like an enhanced code, five when not,
** as parse's result has).
** Not part of smtpcode: a measuring instrument only.
*/
#include <lua.h>
#include <lauxlib.h>

#define NKEYS 9
static const char *const keys[NKEYS] = {"code", "severity", "enhanced",
                                        "class", "subject", "detail",
                                        "text", "lines", "length"};
#define UP_SEV 1
#define UP_ENH 2
#define UP_KEY(k) (3 + (k))

/* A line parse would refuse (not "ddd" with a first digit 2-5 and then a
** space or the end: continuation and log lines) answers as parse's error
** path does: nil and two kept strings. */
static int failed(lua_State *L, const char *s, size_t n) {
  if (n >= 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
      s[2] >= '0' && s[2] <= '9' && (n == 3 || s[3] == ' '))
    return 0;
  lua_pushnil(L);
  lua_pushvalue(L, lua_upvalueindex(UP_SEV));
  lua_pushvalue(L, lua_upvalueindex(UP_ENH));
  return 1;
}

/* Does the text start like an enhanced code ("5.", "4.", "2.")? Then the
** table gets its four fields, as parse's does. */
static int enhanced(const char *s, size_t n) {
  return n > 6 && (s[4] == '2' || s[4] == '4' || s[4] == '5') && s[5] == '.';
}

#define KEY(k) lua_pushvalue(L, lua_upvalueindex(UP_KEY(k)))

static int floor_rawset(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int t;
  if (failed(L, s, n)) return 3;
  lua_createtable(L, 0, enhanced(s, n) ? NKEYS : NKEYS - 4);
  t = lua_gettop(L);
  KEY(7); /* lines, set last */
  lua_createtable(L, 1, 0);
  lua_pushlstring(L, n > 4 ? s + 4 : "", n > 4 ? n - 4 : 0);
  KEY(6); /* text */
  lua_pushvalue(L, -2);
  lua_rawset(L, t);
  lua_rawseti(L, -2, 1);
  KEY(0);
  lua_pushinteger(L, 550);
  lua_rawset(L, t);
  KEY(1);
  lua_pushvalue(L, lua_upvalueindex(UP_SEV));
  lua_rawset(L, t);
  if (enhanced(s, n)) {
    KEY(2);
    lua_pushvalue(L, lua_upvalueindex(UP_ENH));
    lua_rawset(L, t);
    KEY(3);
    lua_pushinteger(L, 5);
    lua_rawset(L, t);
    KEY(4);
    lua_pushinteger(L, 1);
    lua_rawset(L, t);
    KEY(5);
    lua_pushinteger(L, 1);
    lua_rawset(L, t);
  }
  KEY(8);
  lua_pushinteger(L, (lua_Integer)n);
  lua_rawset(L, t);
  lua_rawset(L, t); /* lines */
  return 1;
}

static int floor_ctor(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (failed(L, s, n)) return 3;
  lua_pushvalue(L, lua_upvalueindex(UP_KEY(NKEYS)));
  lua_pushinteger(L, 550);
  lua_pushvalue(L, lua_upvalueindex(UP_SEV));
  if (enhanced(s, n)) {
    lua_pushvalue(L, lua_upvalueindex(UP_ENH));
    lua_pushinteger(L, 5);
    lua_pushinteger(L, 1);
    lua_pushinteger(L, 1);
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
  }
  lua_pushlstring(L, n > 4 ? s + 4 : "", n > 4 ? n - 4 : 0);
  lua_pushinteger(L, (lua_Integer)n);
  lua_call(L, 8, 1);
  return 1;
}

static void pushups(lua_State *L) {
  int k;
  lua_pushliteral(L, "permanent");
  lua_pushliteral(L, "5.1.1");
  for (k = 0; k < NKEYS; k++) lua_pushstring(L, keys[k]);
}

int luaopen_shapefloor(lua_State *L);
int luaopen_shapefloor(lua_State *L) {
  lua_newtable(L);
  pushups(L);
  lua_pushcclosure(L, floor_rawset, 2 + NKEYS);
  lua_setfield(L, -2, "rawset");
  pushups(L);
  if (luaL_loadstring(L, "return function(c, s, e, cl, sb, d, t, n) return "
                         "{code = c, severity = s, enhanced = e, class = cl, "
                         "subject = sb, detail = d, text = t, lines = {t}, "
                         "length = n} end") != LUA_OK)
    return lua_error(L);
  lua_call(L, 0, 1);
  lua_pushcclosure(L, floor_ctor, 3 + NKEYS);
  lua_setfield(L, -2, "ctor");
  return 1;
}
