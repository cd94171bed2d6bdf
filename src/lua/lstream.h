/*
** lstream.h: the reader and writer of SMTP conversations (lstream.c),
** added to the table of smtpcode.core by luaopen_smtpcode_core.
*/
#ifndef smtpcode_lstream_h
#define smtpcode_lstream_h

#include "lua.h"

/* Add the functions of lstream.c to the table at the top of the stack. */
int smtpcode_lstream_open(lua_State *L);

#endif
