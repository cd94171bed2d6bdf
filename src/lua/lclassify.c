/*
** lclassify.c: classify, the user-rule hook, reasons
** (part of the Lua binding smtpcode.core; see lsmtpcode.c).
*/
#include "lsmtpcode.h"

/*
** classify has more upvalues after those: the reason and scope names, and
** the descriptions and advice the C core returns by smtpcode_verdict_text
** (filled on first use), as Lua strings (below).
*/
#define X_REASON(r) (K_NUP + (r))              /* r 1..23 */
#define X_SCOPE(s) (X_REASON(SMTPCODE_REASON_COUNT - 1) + (s)) /* s 1..5 */
#define X_DESC(t) (X_SCOPE(SMTPCODE_SCOPE_SESSION) + 1 + (t))
#define X_ADV(t) (X_DESC(SMTPCODE_VERDICT_TEXTS) + (t))
#define X_BY(b) (X_ADV(SMTPCODE_VERDICT_TEXTS) - 1 + (b)) /* b 1..5 */
#define X_NUP X_BY(SMTPCODE_BY_USER)

/*
** {======================================================
** classify: classify(x [, opts]), rule_count(), reasons(), reason_records()
** =======================================================
*/

/* Push t[i] (raw) and say whether it is nil: one call where
** lua_rawgeti returns the type (Lua 5.3 and later). */
#if LUA_VERSION_NUM >= 503
#define cl_rawgetinil(L, t, i) (lua_rawgeti((L), (t), (i)) == LUA_TNIL)
#else
static int cl_rawgetinil(lua_State *L, int t, int i) {
  lua_rawgeti(L, t, i);
  return lua_isnil(L, -1);
}
#endif

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
    /* an enhanced code in the text itself (qmail's "... (#5.1.1)") is
       smtpcode_classify's to find */
    s = lua_tolstring(L, -1, len);
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
** nil for the texts (see cl_pushtext), then the names of what decided. */
static void cl_pushtexts(lua_State *L) {
  int i;
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++)
    cl_pushstr(L, smtpcode_reason_name(i));
  for (i = 1; i <= SMTPCODE_SCOPE_SESSION; i++)
    cl_pushstr(L, smtpcode_scope_name(i));
  for (i = X_DESC(0); i < X_BY(1); i++) lua_pushnil(L);
  for (i = 1; i <= SMTPCODE_BY_USER; i++)
    cl_pushstr(L, smtpcode_evidence_name(i));
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
    if (!cl_rawgetinil(L, cache, -(base + k))) return;
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
  if (cl_rawgetinil(L, cache, slot)) {
    lua_pop(L, 1);
    lua_pushfstring(L, "reply %d", code);
    lua_pushvalue(L, -1);
    lua_rawseti(L, cache, slot);
  }
}

/* 'rule 12: "user unknown"', from the cache */
static void cl_pushrule(lua_State *L, int cache, int rule) {
  if (cl_rawgetinil(L, cache, CL_RULE + rule)) {
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
** The user rules (lua/smtpcode/rules.lua), when any exist: their hook, in
** K_USER[1], is called as hook(x, code, class) (code and class nil when
** v has none) and returns nil, or the reason, scope (or nil) and matched
** text of the rule that holds; v is then settled with them here, so a
** matching rule costs no second classify. matched stays on the stack.
*/
static void cl_hook(lua_State *L, smtpcode_verdict *v, const char **umatched) {
  int r, sc = 0;
  size_t n;
  const char *p;
  if (cl_rawgetinil(L, lua_upvalueindex(K_USER), 1))
    return; /* the nil stays: l_classify returns only what it pushes last */
  lua_pushvalue(L, 1);
  if (v->code)
    lua_pushinteger(L, v->code);
  else
    lua_pushnil(L);
  if (v->cls)
    lua_pushinteger(L, v->cls);
  else
    lua_pushnil(L);
  lua_call(L, 3, 3);
  p = lua_type(L, -3) == LUA_TSTRING ? lua_tolstring(L, -3, &n) : NULL;
  if (p == NULL || (r = smtpcode_reason_of(p, n)) <= 0) return;
  if (lua_type(L, -2) == LUA_TSTRING) {
    p = lua_tolstring(L, -2, &n);
    sc = smtpcode_scope_of(p, n);
    if (sc < 0) return;
  }
  if (smtpcode_settle(v, r, sc) == 0 && lua_type(L, -1) == LUA_TSTRING)
    *umatched = lua_tostring(L, -1);
}

/*
** classify(x [, opts [, into]]): why a reply failed. x is a text or a
** parse/find result table; into, a table to fill and return instead of a
** new one. When rules were added at run time (smtpcode.add_rule), the
** Lua module has put its hook in K_USER[1]: cl_hook asks it about
** failures.
*/
static int l_classify(lua_State *L) {
  size_t len;
  const char *s;
  smtpcode_found f;
  smtpcode_verdict v;
  const char *umatched = NULL;
  int ureason = 0, skipuser = 0, t, reuse, text, by, tx = lua_type(L, 1);
  /* the types of opts and into before anything is pushed: LUA_TNONE (-1)
     when absent, which counts as nil; then what is pushed lies above them
     or, when they are absent, is not read as them */
  int t2 = lua_type(L, 2), t3 = lua_type(L, 3);
  const int cache = lua_upvalueindex(K_CACHE);
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
  if (t2 > LUA_TNIL) {
    if (t2 != LUA_TTABLE) sc_typeerror(L, 2, "classify", "table");
    cl_opts(L, &v, &umatched, &ureason, &skipuser);
  }
  reuse = t3 == LUA_TTABLE;
  if (!reuse && t3 > LUA_TNIL) sc_typeerror(L, 3, "classify", "table");
  if (ureason == 0 && !skipuser && v.reason != SMTPCODE_REASON_NONE)
    cl_hook(L, &v, &umatched);
  if (reuse) {
    t = 3;
  } else {
    lua_createtable(L, 0, 12);
    t = lua_gettop(L);
  }
  cl_set(L, t, K_CODE, v.code, lua_pushinteger(L, v.code));
  cl_set(L, t, K_ENHANCED, v.cls, cl_pushenhcached(L, cache, CL_ENH, &v));
  pushkey(L, K_SEVERITY);
  pushkey(L, sevkeys[v.severity >= 0 && v.severity <= SMTPCODE_SEV_PERMANENT
                         ? v.severity : SMTPCODE_SEV_UNKNOWN]);
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
  by = smtpcode_verdict_by(&v);
  cl_set(L, t, K_BY, by != SMTPCODE_BY_NONE,
         lua_pushvalue(L, lua_upvalueindex(X_BY(by))));
  if (reuse || v.flags != 0) {
    cl_set(L, t, K_MISMATCH, v.flags & SMTPCODE_V_MISMATCH,
           lua_pushboolean(L, 1));
    cl_set(L, t, K_TRUNCATED, v.flags & SMTPCODE_V_TRUNCATED,
           lua_pushboolean(L, 1));
    cl_set(L, t, K_DELAYED, v.flags & SMTPCODE_V_DELAYED,
           lua_pushboolean(L, 1));
  }
  /* the new table is on the top (every push above was set into it);
     into, below what the call left there, is pushed again */
  if (reuse) lua_pushvalue(L, t);
  return 1;
}

/* _set_hook(fn | nil): the user-rule hook of classify (lua/smtpcode/rules.lua) */
static int l_set_hook(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && lua_type(L, 1) != LUA_TFUNCTION)
    return sc_typeerror(L, 1, "_set_hook", "function or nil");
  lua_settop(L, 1);
  lua_rawseti(L, lua_upvalueindex(K_USER), 1);
  return 0;
}

/* reasons() -> { "user_unknown", ... }, { "recipient", ... }, { "rule", ... }
** (the names of smtpcode_evidence, by number) */
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
  lua_createtable(L, SMTPCODE_BY_USER, 0);
  for (i = 1; i <= SMTPCODE_BY_USER; i++) {
    lua_pushstring(L, smtpcode_evidence_name(i));
    lua_rawseti(L, -2, i);
  }
  return 3;
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

void smtpcode_lclassify_open(lua_State *L) {
  int i;
  luaL_checkstack(L, X_NUP + 4, "smtpcode");
  lua_getfield(L, -1, "_set_hook"); /* a closure that has them all */
  for (i = 1; i <= K_NUP; i++) {
    lua_getupvalue(L, -i, i);
  }
  lua_remove(L, -(K_NUP + 1));
  cl_pushtexts(L);
  lua_pushcclosure(L, l_classify, X_NUP);
  lua_setfield(L, -2, "classify");
}

const luaL_Reg smtpcode_lclassify_funcs[] = {
  {"classify", l_classify},
  {"_set_hook", l_set_hook},
  {"reasons", l_reasons},
  {"reason_records", l_reason_records},
  {"rule_count", l_rule_count},
  {NULL, NULL}
};
