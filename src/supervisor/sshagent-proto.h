/* SPDX-License-Identifier: MIT */
/*
 * sshagent-proto.h - the parts of the ssh-agent protocol the filter reads (draft-miller-ssh-agent)
 *
 * Pure functions on byte buffers, no I/O: the filter (sshagent.c) and the fuzzer use them. A
 * message on the wire is a uint32 big-endian length, then that many bytes: a type byte and
 * the body. The functions here take the body (after the type byte) unless they say otherwise.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSHAGENT_MSG_MAX (256u * 1024u) /* type byte + body */

#define SSH_AGENT_FAILURE             5
#define SSH_AGENT_SUCCESS             6
#define SSH_AGENTC_REQUEST_IDENTITIES 11
#define SSH_AGENT_IDENTITIES_ANSWER   12
#define SSH_AGENTC_SIGN_REQUEST       13
#define SSH_AGENT_SIGN_RESPONSE       14
#define SSH_AGENTC_EXTENSION          27

#define SSHAGENT_IDENTITIES_MAX 1024
#define SSHAGENT_FP_SIZE        51 /* "SHA256:" + 43 base64 characters + NUL */
#define SSHAGENT_TEXT_SIZE      65 /* key types, user names, namespaces: 64 printable + NUL */
#define SSHAGENT_PURPOSE_SIZE   128

/*
 * struct sshagent_sign_request - SSH_AGENTC_SIGN_REQUEST, pointing into the message
 * @key: the public key blob
 * @data: the data to sign
 * @flags: the signature flags
 */
struct sshagent_sign_request {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *data;
	size_t data_len;
	uint32_t flags;
};

/**
 * sshagent_parse_sign_request() - parse the body of a SIGN_REQUEST
 * @body: the bytes after the type byte
 * @len: their number
 * @ret: the request (pointers into @body)
 *
 * string key_blob, string data, uint32 flags, and nothing after; the key blob must begin with
 * a string (its type name).
 *
 * Return: 0 or -EBADMSG.
 */
int sshagent_parse_sign_request(const uint8_t *body, size_t len, struct sshagent_sign_request *ret);

/**
 * sshagent_key_fingerprint() - the SHA256 fingerprint of a key blob, as ssh-keygen -l prints it
 * @blob: the public key blob
 * @len: its length
 * @out: "SHA256:" followed by the unpadded base64 of SHA-256(@blob)
 *
 * Return: 0, or -EIO when the digest fails.
 */
int sshagent_key_fingerprint(const uint8_t *blob, size_t len, char out[SSHAGENT_FP_SIZE]);

/* sshagent_fingerprint_is_valid() - "SHA256:" and 43 base64 characters */
bool sshagent_fingerprint_is_valid(const char *fp);

/**
 * sshagent_key_type() - the key type name at the start of a key blob, made printable
 * @blob: the public key blob
 * @len: its length
 * @out: the name, bytes outside printable ASCII replaced by '?', cut at 64 bytes; "unknown"
 *       when the blob does not start with a string
 */
void sshagent_key_type(const uint8_t *blob, size_t len, char out[SSHAGENT_TEXT_SIZE]);

/**
 * sshagent_describe_data() - what a signature is for, to show the user and log
 * @data: the data of a sign request
 * @len: its length
 * @out: "ssh login as 'USER'" (SSH_MSG_USERAUTH_REQUEST), "signature, namespace 'NS'"
 *       (SSHSIG, e.g. git commit signing) or "unknown data"; names made printable
 */
void sshagent_describe_data(const uint8_t *data, size_t len, char out[SSHAGENT_PURPOSE_SIZE]);

/**
 * sshagent_extension_name() - the name of an SSH_AGENTC_EXTENSION request
 * @body: the bytes after the type byte
 * @len: their number
 * @out: the name, made printable
 *
 * Return: 0 or -EBADMSG.
 */
int sshagent_extension_name(const uint8_t *body, size_t len, char out[SSHAGENT_TEXT_SIZE]);

/*
 * sshagent_key_allowed_fn - is the key with this fingerprint allowed?
 */
typedef bool (*sshagent_key_allowed_fn)(const char *fingerprint, void *userdata);

/**
 * sshagent_filter_identities() - an IDENTITIES_ANSWER with only the allowed keys
 * @body: the body of the upstream's answer (after the type byte)
 * @len: its length
 * @allowed: the predicate
 * @userdata: passed to @allowed
 * @ret: a new complete message (length prefix, type 12, body); free() it
 * @ret_len: its length
 *
 * uint32 nkeys, then nkeys times (string key_blob, string comment), nothing after; at most
 * SSHAGENT_IDENTITIES_MAX keys.
 *
 * Return: 0 or -EBADMSG.
 */
int sshagent_filter_identities(const uint8_t *body, size_t len, sshagent_key_allowed_fn allowed,
			       void *userdata, uint8_t **ret, size_t *ret_len);
