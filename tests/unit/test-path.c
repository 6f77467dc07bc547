/* SPDX-License-Identifier: MIT */
/*
 * test-path.c - lexical path handling
 */
#include "common/path.h"
#include "common/cleanup.h"
#include "tap.h"

TEST(normalize)
{
	_cleanup_free_ char *a = path_normalize("//a///b/./c/");
	_cleanup_free_ char *b = path_normalize("/");
	_cleanup_free_ char *c = path_normalize("/./.");

	ASSERT_STREQ(a, "/a/b/c");
	ASSERT_STREQ(b, "/");
	ASSERT_STREQ(c, "/");
	ASSERT_NULL(path_normalize("a/b"));
	ASSERT_NULL(path_normalize("/a/../b"));
	ASSERT_NULL(path_normalize("/a/.."));
	ASSERT_NULL(path_normalize(""));
}

TEST(startswith_is_component_wise)
{
	ASSERT_STREQ(path_startswith("/home/u/proj", "/home/u/proj"), "");
	ASSERT_STREQ(path_startswith("/home/u/proj/x/y", "/home/u/proj"), "x/y");
	ASSERT_NULL(path_startswith("/home/u/proj-evil", "/home/u/proj"));
	ASSERT_NULL(path_startswith("/home/u/pro", "/home/u/proj"));
	ASSERT_STREQ(path_startswith("/x", "/"), "x");
	ASSERT_TRUE(path_is_below_or_equal("/a/b", "/a"));
	ASSERT_FALSE(path_is_below_or_equal("/ab", "/a"));
}

TEST(join_and_dirname)
{
	_cleanup_free_ char *a = path_join("/a/", "/b");
	_cleanup_free_ char *b = path_dirname("/a/b/c");
	_cleanup_free_ char *c = path_dirname("/a");

	ASSERT_STREQ(a, "/a/b");
	ASSERT_STREQ(b, "/a/b");
	ASSERT_STREQ(c, "/");
}

TEST(safe_relative)
{
	ASSERT_TRUE(path_is_safe_relative(".git/hooks"));
	ASSERT_TRUE(path_is_safe_relative(".vscode"));
	ASSERT_FALSE(path_is_safe_relative("/etc"));
	ASSERT_FALSE(path_is_safe_relative("../x"));
	ASSERT_FALSE(path_is_safe_relative("a/../../x"));
	ASSERT_FALSE(path_is_safe_relative("a//b"));
	ASSERT_FALSE(path_is_safe_relative("./a"));
	ASSERT_FALSE(path_is_safe_relative("a\nb"));
	ASSERT_FALSE(path_is_safe_relative(""));
}

int main(void)
{
	return tap_run();
}
