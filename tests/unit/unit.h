/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the unit test files share: one result per check, counted by test_lib.c's main. */
#ifndef XT_TESTS_UNIT_H
#define XT_TESTS_UNIT_H

void expect(int ok, const char *what, const char *detail);
void test_call_state(void);
void test_config(void);
void test_helpers(void);

#endif
