/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syn.h - the "syn" object's declarations live in syn_cmd.h; this name
 * is shadowed by bpf/syn.h wherever -Ibpf comes before -Iuser, so include
 * "syn_cmd.h".
 */
#include "syn_cmd.h"
