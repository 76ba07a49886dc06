// A small strict JSON (RFC 8259) value, reader and writer for the project's files.
//
// Reader: the whole grammar and nothing more (no comments, no trailing commas, no NaN/Infinity,
// no leading zeros, no duplicate keys in an object, UTF-8 only, no lone surrogates). Any
// malformed input throws ssr::ParseError with the 1-based line and column (counted in bytes) of
// the offending character. Nesting deeper than `max_depth` is refused, so hostile input cannot
// exhaust the stack.
// Writer: numbers in the shortest form that reads back to the same double, so a write/read cycle
// is exact; non-finite numbers cannot be written (InvalidInput).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ssr::json {

class Value;
using Array = std::vector<Value>;
// Members in the order they were read or inserted (files stay in the order their writer chose).
using Object = std::vector<std::pair<std::string, Value>>;

enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

// Name of a type for error messages: "null", "a boolean", "a number", ...
const char* type_name(Type type);

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(double number) : data_(number) {}
  Value(int number) : data_(static_cast<double>(number)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Array array) : data_(std::move(array)) {}
  Value(Object object) : data_(std::move(object)) {}

  Type type() const { return static_cast<Type>(data_.index()); }
  bool is(Type t) const { return type() == t; }

  // Typed access; the caller checks type() first (std::bad_variant_access otherwise).
  bool as_bool() const { return std::get<bool>(data_); }
  double as_number() const { return std::get<double>(data_); }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const Array& as_array() const { return std::get<Array>(data_); }
  const Object& as_object() const { return std::get<Object>(data_); }
  Array& as_array() { return std::get<Array>(data_); }
  Object& as_object() { return std::get<Object>(data_); }

  // Member of an object by key, nullptr when absent (or when this is not an object).
  const Value* find(const std::string& key) const;

  friend bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  // Alternative order matches enum Type.
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> data_;
};

inline constexpr int kDefaultMaxDepth = 128;

// Parses one JSON document (surrounding whitespace allowed). Throws ParseError.
Value parse(const std::string& text, int max_depth = kDefaultMaxDepth);

// Writes a document. indent < 0: one line; otherwise pretty-printed with that many spaces per
// level, arrays holding only numbers kept on one line (boxes and points stay readable).
std::string write(const Value& value, int indent = 2);

// Shortest decimal text that reads back to exactly `number`; InvalidInput if it is not finite.
std::string format_number(double number);

// Replaces `path` with `text` atomically (POSIX): writes a temp file in the same folder, flushes it
// to disk, renames it over `path`, then flushes the folder. On any failure the temp file is removed,
// the previous file is left as it was, and InvalidInput("path", reason) is thrown.
void write_file_atomic(const std::string& path, const std::string& text);

// The whole file as bytes; InvalidInput("path", reason) when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace ssr::json
