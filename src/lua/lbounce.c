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
#define SHARE_MAX (64 * 1024) /* original.headers may keep a message this big */
#define SHARE_EXACT (4 * 1024 * 1024) /* ... and never one this big (see POS_SCALE) */

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

/* Every key and fixed value of a result, made once: upvalue 2 of bounce
** is a table whose array part holds these strings (K_ index) and whose
** hash part maps the address of a name the core returns
** (smtpcode_reason_name, ...) to its Lua string. Keys are set with
** lua_rawset, so no key is hashed or looked up by its C text per call. */
#define KEYS(X)                                                                 \
  X(FORMAT, "format") X(MTA, "mta") X(REPORTING_MTA, "reporting_mta")           \
  X(ARRIVAL_DATE, "arrival_date") X(REPORT_TYPE, "report_type")                \
  X(TRUNCATED, "truncated") X(RECIPIENTS, "recipients") X(ORIGINAL, "original") \
  X(FEEDBACK, "feedback") X(RECIPIENT, "recipient")                             \
  X(ORIGINAL_RECIPIENT, "original_recipient") X(ACTION, "action")              \
  X(ACTION_RAW, "action_raw") X(STATUS, "status") X(STATUS_FIELD, "status_field") \
  X(CODE, "code") X(DIAGNOSTIC, "diagnostic") X(DIAGNOSTIC_TYPE, "diagnostic_type") \
  X(REMOTE_MTA, "remote_mta") X(COMMAND, "command") X(LAST_ATTEMPT, "last_attempt") \
  X(WILL_RETRY_UNTIL, "will_retry_until") X(REASON, "reason") X(SCOPE, "scope") \
  X(SEVERITY, "severity") X(BOUNCE, "bounce") X(RETRY, "retry")                \
  X(MESSAGE_ID, "message_id") X(FROM, "from") X(TO, "to") X(SUBJECT, "subject") \
  X(DATE, "date") X(INDEX, "__index") X(TYPE, "type") X(USER_AGENT, "user_agent") \
  X(VERSION, "version") X(SOURCE_IP, "source_ip")                               \
  X(ORIGINAL_MAIL_FROM, "original_mail_from") X(ORIGINAL_RCPT_TO, "original_rcpt_to") \
  X(REPORTED_DOMAIN, "reported_domain") X(HARD, "hard") X(SOFT, "soft")

#define K_ENUM(e, s) K_##e,
#define K_TEXT(e, s) s,
enum { K_NONE, KEYS(K_ENUM) K_COUNT };
static const char *const keytext[K_COUNT] = {"", KEYS(K_TEXT)};

#define KT lua_upvalueindex(2)

typedef struct res {
  const char *m, *buf;
  int kt; /* stack index of the key table */
} res;

static void pushkey(lua_State *L, const res *r, int k) { lua_rawgeti(L, r->kt, k); }

static void pushspan(lua_State *L, const res *r, smtpcode_span s) {
  if (s.len <= 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, (s.where ? r->buf : r->m) + s.off, (size_t)s.len);
}

static void setspan(lua_State *L, const res *r, int k, smtpcode_span s) {
  if (s.len <= 0) return;
  pushkey(L, r, k);
  lua_pushlstring(L, (s.where ? r->buf : r->m) + s.off, (size_t)s.len);
  lua_rawset(L, -3);
}

/* The names the core returns, by kind and number: the key table's array
** goes on with NAME_STRIDE entries per kind (the name, or false where the
** core has none), made once from the core's functions; a number past the
** stride is pushed from its C text. */
enum { N_FORMAT, N_MTA, N_ACTION, N_COMMAND, N_REASON, N_SCOPE, N_SEVERITY, N_KINDS };
#define NAME_STRIDE 64
static const char *(*const namefn[N_KINDS])(int) = {
    smtpcode_bformat_name, smtpcode_bounce_mta_name, smtpcode_action_name,
    smtpcode_command_name, smtpcode_reason_name,     smtpcode_scope_name,
    smtpcode_severity_name};

/* set key k to the name of number v of kind (nothing when it has none) */
static void setname(lua_State *L, const res *r, int k, int kind, int v) {
  const char *t;
  if (v >= 0 && v < NAME_STRIDE) {
    pushkey(L, r, k);
    lua_rawgeti(L, r->kt, K_COUNT + kind * NAME_STRIDE + v);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      return;
    }
  } else {
    if ((t = namefn[kind](v)) == NULL) return;
    pushkey(L, r, k);
    lua_pushstring(L, t);
  }
  lua_rawset(L, -3);
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
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);
      if (lua_isnil(L, -1)) {
        int w = smtpcode_unfold(h + i + (size_t)vo, (size_t)vl, tmp, sizeof tmp);
        lua_pop(L, 1);
        lua_pushlstring(L, tmp, (size_t)w);
        lua_rawset(L, -3);
      } else
        lua_pop(L, 2);
    }
    i += (size_t)used;
  }
}

/* __index of b.original, shared by every result: "headers" is built from
** the header block of the table (upvalue 1, a weak-keyed table, maps it to
** the message or a copy of the block; upvalue 2, the same way, to the
** block's offset there times 2^31 plus its length), stored in the table
** and returned; other keys are nil. A table without a block gets {}. */
#define POS_SCALE 2147483648.0 /* 2^31: offsets below 2^22 keep it exact */
static int l_headers(lua_State *L) {
  size_t n = 0, off = 0, len = 0;
  const char *h = NULL;
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "headers") != 0) return 0;
  lua_settop(L, 2);
  lua_pushvalue(L, 1);
  lua_rawget(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_rawget(L, lua_upvalueindex(2));
  if (lua_type(L, 3) == LUA_TSTRING && lua_type(L, 4) == LUA_TNUMBER) {
    lua_Number p = lua_tonumber(L, 4), o = (lua_Number)(long long)(p / POS_SCALE);
    h = lua_tolstring(L, 3, &n);
    off = (size_t)o;
    len = (size_t)(p - o * POS_SCALE);
  }
  if (h == NULL || off > n || len > n - off) {
    h = "";
    off = len = 0;
  }
  pushheaders(L, h + off, len);
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

#define HAS(s) ((s).len > 0)

static void pushrcpt(lua_State *L, const res *r, const smtpcode_brcpt *x, int prevsame) {
  const smtpcode_verdict *v = &x->v;
  int action = smtpcode_action_name(x->action) != NULL;
  int command = smtpcode_command_name(x->command) != NULL;
  int reason = smtpcode_reason_name(v->reason) != NULL;
  int scope = smtpcode_scope_name(v->scope) != NULL;
  int severity = smtpcode_severity_name(v->severity) != NULL;
  int diag = HAS(x->diagnostic) && !(prevsame && x->diagnostic.len > 256);
  /* the fields present, so the table is made at its final size */
  int n = HAS(x->recipient) + HAS(x->original) + action + HAS(x->action_raw) +
          (v->cls != 0) + HAS(x->status_raw) + (v->code != 0) + diag + HAS(x->diag_type) +
          HAS(x->remote_mta) + command + HAS(x->last_attempt) +
          HAS(x->will_retry) + reason + scope + severity +
          (v->bounce != SMTPCODE_BOUNCE_NONE) + (v->retry != SMTPCODE_RETRY_NA);
  lua_createtable(L, 0, n + (prevsame && !diag));
  setspan(L, r, K_RECIPIENT, x->recipient);
  setspan(L, r, K_ORIGINAL_RECIPIENT, x->original);
  setname(L, r, K_ACTION, N_ACTION, x->action);
  setspan(L, r, K_ACTION_RAW, x->action_raw);
  if (v->cls) {
    pushkey(L, r, K_STATUS);
    pushenh(L, v->cls, v->subject, v->detail);
    lua_rawset(L, -3);
  }
  setspan(L, r, K_STATUS_FIELD, x->status_raw);
  if (v->code) {
    pushkey(L, r, K_CODE);
    lua_pushinteger(L, v->code);
    lua_rawset(L, -3);
  }
  if (diag) setspan(L, r, K_DIAGNOSTIC, x->diagnostic);
  setspan(L, r, K_DIAGNOSTIC_TYPE, x->diag_type);
  setspan(L, r, K_REMOTE_MTA, x->remote_mta);
  setname(L, r, K_COMMAND, N_COMMAND, x->command);
  setspan(L, r, K_LAST_ATTEMPT, x->last_attempt);
  setspan(L, r, K_WILL_RETRY_UNTIL, x->will_retry);
  setname(L, r, K_REASON, N_REASON, v->reason);
  setname(L, r, K_SCOPE, N_SCOPE, v->scope);
  setname(L, r, K_SEVERITY, N_SEVERITY, v->severity);
  if (v->bounce != SMTPCODE_BOUNCE_NONE) {
    pushkey(L, r, K_BOUNCE);
    pushkey(L, r, v->bounce == SMTPCODE_BOUNCE_HARD ? K_HARD : K_SOFT);
    lua_rawset(L, -3);
  }
  if (v->retry != SMTPCODE_RETRY_NA) {
    pushkey(L, r, K_RETRY);
    lua_pushboolean(L, v->retry == SMTPCODE_RETRY_YES);
    lua_rawset(L, -3);
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
  lua_pushvalue(L, KT); /* read from a stack slot: a shorter way than an upvalue's */
  r.kt = lua_gettop(L);
  {
    int fmt = smtpcode_bformat_name(out.format) != NULL;
    int mta = smtpcode_bounce_mta_name(out.mta) != NULL;
    int orig = out.headers.len > 0 || out.subject.len > 0;
    lua_createtable(L, 0,
                    fmt + mta + HAS(out.reporting_mta) +
                        HAS(out.arrival_date) + HAS(out.report_type) +
                        ((out.flags & SMTPCODE_BR_MORE_RCPTS) != 0) + 1 + orig +
                        (out.format == SMTPCODE_BF_ARF));
    setname(L, &r, K_FORMAT, N_FORMAT, out.format);
    setname(L, &r, K_MTA, N_MTA, out.mta);
    setspan(L, &r, K_REPORTING_MTA, out.reporting_mta);
    setspan(L, &r, K_ARRIVAL_DATE, out.arrival_date);
    setspan(L, &r, K_REPORT_TYPE, out.report_type);
    if (out.flags & SMTPCODE_BR_MORE_RCPTS) {
      pushkey(L, &r, K_TRUNCATED);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    pushkey(L, &r, K_RECIPIENTS);
    lua_createtable(L, out.nrcpt, 0);
    for (i = 0; i < out.nrcpt; i++) {
      int same = i > 0 && rc[i].diagnostic.off == rc[i - 1].diagnostic.off &&
                 rc[i].diagnostic.len == rc[i - 1].diagnostic.len &&
                 rc[i].diagnostic.where == rc[i - 1].diagnostic.where;
      pushrcpt(L, &r, &rc[i], same);
      if (same && rc[i].diagnostic.len > 256) {
        /* a long text shared with the previous recipient: the same string */
        pushkey(L, &r, K_DIAGNOSTIC);
        lua_rawgeti(L, -3, i);
        pushkey(L, &r, K_DIAGNOSTIC);
        lua_rawget(L, -2);
        lua_replace(L, -2);
        lua_rawset(L, -3);
      }
      lua_rawseti(L, -2, i + 1);
    }
    lua_rawset(L, -3);
    if (orig) {
      pushkey(L, &r, K_ORIGINAL);
      lua_createtable(L, 0, HAS(out.message_id) + HAS(out.from) + HAS(out.to) +
                                HAS(out.subject) + HAS(out.date) + 1);
      setspan(L, &r, K_MESSAGE_ID, out.message_id);
      setspan(L, &r, K_FROM, out.from);
      setspan(L, &r, K_TO, out.to);
      setspan(L, &r, K_SUBJECT, out.subject);
      setspan(L, &r, K_DATE, out.date);
      /* headers: made on first use (most callers never look), from the
      ** message itself when the block lies there and the message is not
      ** much bigger (a kept result must not keep a large message alive),
      ** else from a copy of the block */
      lua_pushvalue(L, lua_upvalueindex(3));
      lua_setmetatable(L, -2);
      if (out.headers.len > 0) {
        lua_Number pos = (lua_Number)out.headers.len;
        lua_pushvalue(L, -1);
        if (!out.headers.where && len < SHARE_EXACT &&
            (len <= SHARE_MAX || len / 4 <= (size_t)out.headers.len)) {
          lua_pushvalue(L, 1);
          pos += (lua_Number)out.headers.off * POS_SCALE;
        } else
          pushspan(L, &r, out.headers);
        lua_rawset(L, lua_upvalueindex(4));
        lua_pushvalue(L, -1);
        lua_pushnumber(L, pos);
        lua_rawset(L, lua_upvalueindex(5));
      }
      lua_rawset(L, -3);
    }
    if (out.format == SMTPCODE_BF_ARF) {
      pushkey(L, &r, K_FEEDBACK);
      lua_createtable(L, 0, 8);
      setspan(L, &r, K_TYPE, out.fb_type);
      setspan(L, &r, K_USER_AGENT, out.fb_user_agent);
      setspan(L, &r, K_VERSION, out.fb_version);
      setspan(L, &r, K_SOURCE_IP, out.fb_source_ip);
      setspan(L, &r, K_ORIGINAL_MAIL_FROM, out.fb_mail_from);
      setspan(L, &r, K_ORIGINAL_RCPT_TO, out.fb_rcpt_to);
      setspan(L, &r, K_ARRIVAL_DATE, out.fb_arrival);
      setspan(L, &r, K_REPORTED_DOMAIN, out.fb_domain);
      lua_rawset(L, -3);
    }
  }
  return 1;
}

int smtpcode_open_bounce(lua_State *L) {
  int k;
  lua_pushnil(L); /* the scratch buffer, made on first use */
  lua_createtable(L, K_COUNT - 1 + N_KINDS * NAME_STRIDE, 0); /* the key table */
  for (k = 1; k < K_COUNT; k++) {
    lua_pushstring(L, keytext[k]);
    lua_rawseti(L, -2, k);
  }
  for (k = 0; k < N_KINDS * NAME_STRIDE; k++) {
    const char *t = namefn[k / NAME_STRIDE](k % NAME_STRIDE);
    if (t)
      lua_pushstring(L, t);
    else
      lua_pushboolean(L, 0);
    lua_rawseti(L, -2, K_COUNT + k);
  }
  /* the metatable of every b.original, its __index reading two weak-keyed
     tables that hold each table's header block */
  lua_createtable(L, 0, 1);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_pushvalue(L, -1);
  lua_setmetatable(L, -2); /* a weak table its own metatable */
  lua_createtable(L, 0, 0);
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_headers, 2);
  lua_setfield(L, -4, "__index"); /* stack: mt, wsrc, wpos */
  lua_pushcclosure(L, l_bounce, 5);
  lua_setfield(L, -2, "bounce");
  return 0;
}
