/* SPDX-License-Identifier: MIT */
/*
 * siphash.h - SipHash-2-4, a keyed hash for tables whose keys an attacker chooses
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_SIZE 16

/**
 * siphash24() - SipHash-2-4 of a byte string (Aumasson and Bernstein, 2012)
 * @data: the bytes
 * @len: how many
 * @key: a 16-byte secret key; tables seed it from getrandom() so that names chosen by a
 *       sandbox cannot be made to collide
 *
 * Return: the 64-bit hash.
 */
uint64_t siphash24(const void *data, size_t len, const uint8_t key[SIPHASH_KEY_SIZE]);
