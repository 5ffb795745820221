/*
 * Copyright (c) 2026 The rpcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * Building json-c trees that are whole or not at all: the replies rpcd
 * makes (methods, stats and its settings) add member after member and
 * check once at the end.
 */

#include "config.h"

#include <stddef.h>

#include <json-c/json.h>

#include "common.h"

/*
 * Add v to o: as member key of an object (key a constant string, not
 * copied), or at the end of an array if key is NULL.  Return 0, or -1.
 * json-c leaves v to the caller when it cannot add it, and a NULL o or v
 * is an allocation that failed already: then v is freed and -1 returned,
 * so that a tree is built whole or thrown away, never leaked.
 */
int
json_add(struct json_object *o, const char *key, struct json_object *v)
{
	int	rc = -1;

	if (o != NULL && v != NULL && key != NULL)
		rc = json_object_object_add_ex(o, key, v,
		    JSON_C_OBJECT_KEY_IS_CONSTANT);
	else if (o != NULL && v != NULL)
		rc = json_object_array_add(o, v);
	if (rc != 0)
		json_object_put(v);
	return (rc);
}
