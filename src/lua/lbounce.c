/*
** lbounce.c: the Lua binding of smtpcode_bounce_read (src/bounce.h):
** core.bounce(message [, opts]). It only translates: the spans of the C
** result become strings of one result table.
*/
#include <stddef.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "bounce.h"

int smtpcode_open_bounce(lua_State *L);

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 502
#define b_rawlen(L, i) lua_objlen((L), (i))
#else
#define b_rawlen(L, i) lua_rawlen((L), (i))
#endif

#define STACK_RCPTS 16
#define BUF_KEEP (4 * 1024 * 1024) /* a bigger scratch buffer is not kept */

static int b_argerror(lua_State *L, int arg, const char *msg) {
  return luaL_error(L, "bad argument #%d to 'bounce' (%s)", arg, msg);
}

static int b_typeerror(lua_State *L, int arg, const char *expected) {
  int t = lua_type(L, arg);
  return b_argerror(L, arg,
                    lua_pushfstring(L, "%s expected, got %s", expected,
                                    t == LUA_TNONE ? "nil" : lua_typename(L, t)));
}

static int optint(lua_State *L, int arg, const char *name) {
  lua_Number v;
  lua_pushstring(L, name); /* read raw, as every table passed in */
  lua_rawget(L, arg);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TNUMBER)
    b_argerror(L, arg, lua_pushfstring(L, "opts.%s must be a number, got %s", name,
                                       luaL_typename(L, -1)));
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 1)) b_argerror(L, arg, lua_pushfstring(L, "opts.%s must be positive", name));
  return v > SMTPCODE_LIMIT_CEILING ? SMTPCODE_LIMIT_CEILING : (int)v;
}

typedef struct res {
  const char *m, *buf;
} res;

static void pushspan(lua_State *L, const res *r, smtpcode_span s) {
  if (s.len <= 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, (s.where ? r->buf : r->m) + s.off, (size_t)s.len);
}

static void setspan(lua_State *L, const res *r, const char *k, smtpcode_span s) {
  if (s.len <= 0) return;
  pushspan(L, r, s);
  lua_setfield(L, -2, k);
}

static void setstr(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* every field of a header block, names lowercased, values unfolded; the
** first of repeated fields is kept */
static void pushheaders(lua_State *L, const char *h, size_t n) {
  size_t i = 0;
  int k = 0;
  char tmp[8192];
  lua_newtable(L);
  while (i < n && k < SMTPCODE_BOUNCE_MAX_FIELDS) {
    int no, nl, vo, vl, used = smtpcode_header_next(h + i, n - i, &no, &nl, &vo, &vl);
    int j;
    char name[80];
    if (used <= 0) break;
    k++;
    if (nl < (int)sizeof name) {
      for (j = 0; j < nl; j++) {
        char ch = h[i + (size_t)no + (size_t)j];
        name[j] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
      }
      lua_pushlstring(L, name, (size_t)nl);
      lua_rawget(L, -2);
      if (lua_isnil(L, -1)) {
        int w = smtpcode_unfold(h + i + (size_t)vo, (size_t)vl, tmp, sizeof tmp);
        lua_pop(L, 1);
        lua_pushlstring(L, name, (size_t)nl);
        lua_pushlstring(L, tmp, (size_t)w);
        lua_rawset(L, -3);
      } else
        lua_pop(L, 1);
    }
    i += (size_t)used;
  }
}

/* __index of b.original: "headers" is built from the header block kept as
** upvalue 1, stored in the table and returned; other keys are nil. */
static int l_headers(lua_State *L) {
  size_t n;
  const char *h;
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "headers") != 0) return 0;
  h = lua_tolstring(L, lua_upvalueindex(1), &n);
  if (h == NULL) {
    h = "";
    n = 0;
  }
  pushheaders(L, h, n);
  lua_pushliteral(L, "headers");
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static void pushenh(lua_State *L, int c, int s, int d) {
  char b[32];
  int n = 0, parts[3], k;
  parts[0] = c;
  parts[1] = s;
  parts[2] = d;
  for (k = 0; k < 3; k++) {
    int v = parts[k] < 0 ? 0 : parts[k] % 1000;
    if (k) b[n++] = '.';
    if (v >= 100) b[n++] = (char)('0' + v / 100);
    if (v >= 10) b[n++] = (char)('0' + v / 10 % 10);
    b[n++] = (char)('0' + v % 10);
  }
  lua_pushlstring(L, b, (size_t)n);
}

static void pushrcpt(lua_State *L, const res *r, const smtpcode_brcpt *x, int prevsame) {
  const smtpcode_verdict *v = &x->v;
  lua_createtable(L, 0, 18);
  setspan(L, r, "recipient", x->recipient);
  setspan(L, r, "original_recipient", x->original);
  setstr(L, "action", smtpcode_action_name(x->action));
  setspan(L, r, "action_raw", x->action_raw);
  if (v->cls) {
    pushenh(L, v->cls, v->subject, v->detail);
    lua_setfield(L, -2, "status");
  }
  setspan(L, r, "status_field", x->status_raw);
  if (v->code) {
    lua_pushinteger(L, v->code);
    lua_setfield(L, -2, "code");
  }
  if (!(prevsame && x->diagnostic.len > 256)) setspan(L, r, "diagnostic", x->diagnostic);
  setspan(L, r, "diagnostic_type", x->diag_type);
  setspan(L, r, "remote_mta", x->remote_mta);
  setstr(L, "command", smtpcode_command_name(x->command));
  setspan(L, r, "last_attempt", x->last_attempt);
  setspan(L, r, "will_retry_until", x->will_retry);
  setstr(L, "reason", smtpcode_reason_name(v->reason));
  setstr(L, "scope", smtpcode_scope_name(v->scope));
  setstr(L, "severity", smtpcode_severity_name(v->severity));
  if (v->bounce != SMTPCODE_BOUNCE_NONE) {
    lua_pushstring(L, v->bounce == SMTPCODE_BOUNCE_HARD ? "hard" : "soft");
    lua_setfield(L, -2, "bounce");
  }
  if (v->retry != SMTPCODE_RETRY_NA) {
    lua_pushboolean(L, v->retry == SMTPCODE_RETRY_YES);
    lua_setfield(L, -2, "retry");
  }
}

/* The scratch buffer: upvalue 1, grown on demand. */
static char *getbuf(lua_State *L, size_t need) {
  size_t have;
  char *p;
  lua_pushvalue(L, lua_upvalueindex(1));
  p = (char *)lua_touserdata(L, -1);
  have = p ? (size_t)b_rawlen(L, -1) : 0;
  if (p && have >= need) return p; /* left on the stack */
  lua_pop(L, 1);
  p = (char *)lua_newuserdata(L, need);
  if (need <= BUF_KEEP) {
    lua_pushvalue(L, -1);
    lua_replace(L, lua_upvalueindex(1));
  }
  return p;
}

static int l_bounce(lua_State *L) {
  size_t len, need;
  const char *m;
  smtpcode_bounce_opts o, *op = NULL;
  smtpcode_breport out;
  smtpcode_brcpt stack[STACK_RCPTS], *rc = stack;
  int rcap = STACK_RCPTS, st, i, maxr = SMTPCODE_BOUNCE_MAX_RCPTS;
  char *buf;
  res r;
  if (lua_type(L, 1) != LUA_TSTRING) return b_typeerror(L, 1, "string");
  m = lua_tolstring(L, 1, &len);
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TTABLE) return b_typeerror(L, 2, "table");
    memset(&o, 0, sizeof o);
    o.max_size = optint(L, 2, "max_size");
    o.max_recipients = optint(L, 2, "max_recipients");
    o.max_depth = optint(L, 2, "max_depth");
    o.max_parts = optint(L, 2, "max_parts");
    o.max_header = optint(L, 2, "max_header");
    if (o.max_recipients) maxr = o.max_recipients;
    op = &o;
  }
  lua_settop(L, 2);
  if (len > (size_t)(op && op->max_size ? op->max_size : SMTPCODE_BOUNCE_MAX_SIZE)) {
    lua_pushnil(L);
    lua_pushliteral(L, "message exceeds max_size");
    lua_pushliteral(L, "too_long");
    return 3;
  }
  need = 2 * len + 4096;
  buf = getbuf(L, need); /* stack: 3 = buffer */
  st = smtpcode_bounce_read(m, len, op, buf, need, &out, rc, rcap);
  if (st == 0 && out.total > rcap && rcap < maxr) {
    rcap = out.total < maxr ? out.total : maxr;
    rc = (smtpcode_brcpt *)lua_newuserdata(L, sizeof *rc * (size_t)rcap);
    st = smtpcode_bounce_read(m, len, op, buf, need, &out, rc, rcap);
  }
  if (st < 0) {
    lua_pushnil(L);
    switch (st) {
    case SMTPCODE_ENOTBOUNCE:
      lua_pushliteral(L, "not a delivery or feedback report");
      break;
    case SMTPCODE_ETOOLONG:
      lua_pushliteral(L, "message exceeds a size limit");
      break;
    default:
      lua_pushliteral(L, "message has no header section");
      break;
    }
    lua_pushstring(L, smtpcode_bounce_status_name(st));
    return 3;
  }
  r.m = m;
  r.buf = buf;
  lua_createtable(L, 0, 10);
  setstr(L, "format", smtpcode_bformat_name(out.format));
  setstr(L, "mta", smtpcode_bounce_mta_name(out.mta));
  setspan(L, &r, "reporting_mta", out.reporting_mta);
  setspan(L, &r, "arrival_date", out.arrival_date);
  setspan(L, &r, "report_type", out.report_type);
  if (out.flags & SMTPCODE_BR_MORE_RCPTS) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "truncated");
  }
  lua_createtable(L, out.nrcpt, 0);
  for (i = 0; i < out.nrcpt; i++) {
    int same = i > 0 && rc[i].diagnostic.off == rc[i - 1].diagnostic.off &&
               rc[i].diagnostic.len == rc[i - 1].diagnostic.len &&
               rc[i].diagnostic.where == rc[i - 1].diagnostic.where;
    pushrcpt(L, &r, &rc[i], same);
    if (same && rc[i].diagnostic.len > 256) {
      /* a long text shared with the previous recipient: the same string */
      lua_rawgeti(L, -2, i);
      lua_getfield(L, -1, "diagnostic");
      lua_setfield(L, -3, "diagnostic");
      lua_pop(L, 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "recipients");
  if (out.headers.len > 0 || out.subject.len > 0) {
    lua_createtable(L, 0, 6);
    setspan(L, &r, "message_id", out.message_id);
    setspan(L, &r, "from", out.from);
    setspan(L, &r, "to", out.to);
    setspan(L, &r, "subject", out.subject);
    setspan(L, &r, "date", out.date);
    /* headers: made on first use (most callers never look) */
    lua_createtable(L, 0, 1);
    pushspan(L, &r, out.headers);
    lua_pushcclosure(L, l_headers, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "original");
  }
  if (out.format == SMTPCODE_BF_ARF) {
    lua_createtable(L, 0, 8);
    setspan(L, &r, "type", out.fb_type);
    setspan(L, &r, "user_agent", out.fb_user_agent);
    setspan(L, &r, "version", out.fb_version);
    setspan(L, &r, "source_ip", out.fb_source_ip);
    setspan(L, &r, "original_mail_from", out.fb_mail_from);
    setspan(L, &r, "original_rcpt_to", out.fb_rcpt_to);
    setspan(L, &r, "arrival_date", out.fb_arrival);
    setspan(L, &r, "reported_domain", out.fb_domain);
    lua_setfield(L, -2, "feedback");
  }
  return 1;
}

int smtpcode_open_bounce(lua_State *L) {
  lua_pushnil(L); /* the scratch buffer, made on first use */
  lua_pushcclosure(L, l_bounce, 1);
  lua_setfield(L, -2, "bounce");
  return 0;
}
