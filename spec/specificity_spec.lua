-- Matching that generalises. Each case failed with the rules and
-- matcher of the session before (commit 862b17a).
local sc = require "smtpcode"
local helper = dofile((debug.getinfo(1, "S").source:gsub("^@", ""):gsub("[^/\\]*$", "")) .. "helper.lua")

local CASES = {
  -- a word inserted between the key words (family 1)
  { "550 5.7.1 Your IP 192.0.2.7 has a poor sending reputation", "blocklisted" },
  { "550 5.7.1 Message rejected: spam score 9.3 is over the limit of 5.0", "spam" },
  { "550 5.7.1 Access from IP 192.0.2.7 has been blocked by our anti-spam policy", "blocklisted" },
  -- generic or incidental words against specific ones (family 2)
  { "421 4.7.0 Please try again slower", "rate_limited" },
  { "550 5.7.1 Domain example.org is suspended. Please try later", "mailbox_disabled" },
  { "550 5.1.1 bob: Command died with status 67: \"/usr/bin/procmail\". Command output: No such user", "user_unknown" },
  { "421 4.7.1 Too many errors on this connection, closing transmission channel, please try again later", "syntax" },
  -- a provider's code against the words (family 7)
  { "550 5.4.6 Unusual sending activity detected from your account", "rate_limited" },
  { "451 4.4.6 routing loop detected: too many messages sent from your account today", "rate_limited" },
  -- suspended and closed, spam scores, sending IP not allowed (family 8)
  { "550 5.7.1 Recipient domain example.org has been closed", "mailbox_disabled" },
  { "550 5.7.1 Sending IP 192.0.2.7 is not allowed to send mail for domain example.com", "sender_auth" },
  { "550 5.7.1 The domain example.com is not authorized to send from IP 192.0.2.7", "sender_auth" },
  -- other languages, no enhanced code (family 5)
  { "550 Получатель не существует", "user_unknown" },
  { "550 Учётная запись заблокирована", "mailbox_disabled" },
  { "550 该邮箱地址不存在", "user_unknown" },
  { "550 このメールアドレスは存在しません", "user_unknown" },
  { "550 Mailbox des Empfängers ist voll", "mailbox_full" },
  { "550 Het e-mailadres bestaat niet", "user_unknown" },
  { "550 Ce compte a été désactivé", "mailbox_disabled" },
  { "550 A caixa postal do destinatário está cheia", "mailbox_full" },
  { "550 Bu e-posta adresi mevcut değil", "user_unknown" },
  { "550 La cuenta de correo no existe", "user_unknown" },
  { "550 La casella di posta del destinatario è piena", "mailbox_full" },
  { "550 Konto odbiorcy zostało zablokowane", "mailbox_disabled" },
  { "550 迷惑メールと判定されたため拒否しました", "spam" },
  -- batch O of spec/fixtures/field-replies.tsv (each failed before its rules)
  { "550 5.7.1 Message rejected: sender IP 192.0.2.90 is not permitted to send mail for example.org", "sender_auth" },
  { "550 5.7.1 Your IP 192.0.2.7 is not authorized to send email for example.com", "sender_auth" },
  { "550 该邮箱已被冻结", "mailbox_disabled" },
  { "550 该账号已被禁用", "mailbox_disabled" },
  -- a disabled, blocked or suspended mailbox in each language: every
  -- subject word with every state word
  { "550 Пользователь заблокирован", "mailbox_disabled" },
  { "550 Аккаунт отключён", "mailbox_disabled" },
  { "550 Casella di posta sospesa", "mailbox_disabled" },
  { "550 Postfach gesperrt", "mailbox_disabled" },
  { "550 Compte suspendu", "mailbox_disabled" },
  { "550 Cuenta bloqueada", "mailbox_disabled" },
  { "550 Konto zawieszone", "mailbox_disabled" },
  { "550 Hesap askıya alındı", "mailbox_disabled" },
  { "550 帳號已停用", "mailbox_disabled" },
  { "550 このアカウントは無効です", "mailbox_disabled" },
  -- ESP webhook fields name the cause; the quoted reply wins when it names one
  { '{"bounceType":"Permanent","bounceSubType":"NoEmail","bouncedRecipients":[{"emailAddress":"a@example.com"}]}', "user_unknown" },
  { '{"bounceType": "Permanent", "bounceSubType": "Suppressed"}', "policy" },
  { '{"bounceType":"Permanent","bounceSubType":"NoEmail","bouncedRecipients":[{"diagnosticCode":"smtp; 550 5.2.1 The email account that you tried to reach is disabled"}]}', "mailbox_disabled" },
  { '{"RecordType":"Bounce","Type":"BadEmailAddress","TypeCode":100000}', "bad_address" },
  -- the sender's domain suspended is the sender's; a named fault beats "retry later"
  { "550 5.7.1 Sender domain example.com has been suspended", "sender_rejected" },
  { "[DENYSOFT] 451 4.3.0 Backend failure. Please retry later", "system_error" },
  { "550 5.7.1 Your score of 12.5 is above the limit of 8", "spam" },
  -- a mailbox quota exceeded in other languages, the quota word first and
  -- words between; a sending quota is the sender's rate
  { "452 Quota de la boîte aux lettres dépassé", "mailbox_full" },
  { "452 Cuota del buzón excedida", "mailbox_full" },
  { "452 Quota della casella superata", "mailbox_full" },
  { "452 Quota van de mailbox overschreden", "mailbox_full" },
  { "452 Skrzynka odbiorcy jest przepełniona", "mailbox_full" },
  { "550 Quota d'envoi dépassé pour aujourd'hui", "rate_limited" },
  { "550 Nieznany odbiorca", "user_unknown" },
  -- code-less exceptions of client libraries
  { "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)", "tls_required" },
  { "MailKit.Net.Smtp.SmtpProtocolException: The SMTP server has unexpectedly disconnected.", "network" },
  { "System.Net.Mail.SmtpException: Failure sending mail. ---> System.IO.IOException: Unable to read data from the transport connection: net_io_connectionclosed.", "network" },
}

describe("classify generalises", function()
  it("gives the specific reason, on every backend", function()
    helper.each_backend(sc, function(b)
      local bad = {}
      for _, c in ipairs(CASES) do
        local v = sc.classify(c[1])
        if v.reason ~= c[2] then
          bad[#bad + 1] = string.format("%s: want %s, got %s (%s)", c[1], c[2], tostring(v.reason), tostring(v.matched))
        end
      end
      assert.same({}, bad, b)
    end)
  end)

  it("a domain that does not exist is the domain's, in other languages", function()
    assert.equal("host_unknown", sc.classify("550 El dominio example.org no existe").reason)
    assert.equal("host_unknown", sc.classify("550 Le domaine example.org n'existe pas").reason)
  end)

  it("a sender marker in another language keeps 'unknown' off the recipient", function()
    local v = sc.classify("550 Absender unbekannt")
    assert.are_not.equal("hard", v.bounce)
  end)

  it("the sender's own suspended account is not a dead recipient", function()
    local v = sc.classify("550 5.7.1 Your account has been suspended")
    assert.are_not.equal("hard", v.bounce)
    -- the same in other languages
    for _, t in ipairs { "550 5.7.1 Ihr Konto wurde gesperrt", "535 5.7.8 Ваш аккаунт заблокирован",
                         "550 Votre compte est suspendu", "550 Su cuenta ha sido bloqueada",
                         "550 您的账号已被冻结" } do
      assert.are_not.equal("hard", sc.classify(t).bounce, t)
    end
    -- an account word with no code is a client's own login, not a recipient
    assert.is_nil(sc.classify("2026-03-02 INFO utente bloccato: tentativo di accesso").bounce)
  end)
end)
