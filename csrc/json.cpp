#include "json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "errors.h"

namespace ssr::json {

namespace {

// Recursive-descent reader over the raw bytes; `pos_` always points at the next unread byte, so
// an error's line and column are computed from it only when an error is thrown.
class Parser {
 public:
  Parser(const std::string& text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Value document() {
    skip_whitespace();
    Value value = any(0);
    skip_whitespace();
    if (!at_end()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

  [[noreturn]] void fail_at(size_t pos, const std::string& what) const {
    int line = 1, column = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw ParseError(line, column, what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c, const char* what) {
    if (peek() != c) fail(std::string("expected ") + what);
    ++pos_;
  }

  void expect_word(const char* word) {
    for (const char* p = word; *p; ++p) {
      if (peek() != *p) fail(std::string("invalid literal (expected '") + word + "')");
      ++pos_;
    }
  }

  Value any(int depth) {
    if (at_end()) fail("unexpected end of input (expected a value)");
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return Value(string());
      case 't': expect_word("true"); return Value(true);
      case 'f': expect_word("false"); return Value(false);
      case 'n': expect_word("null"); return Value();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value(number());
        fail("unexpected character (expected a value)");
    }
  }

  void check_depth(int depth) const {
    if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
  }

  Value array(int depth) {
    check_depth(depth);
    ++pos_;  // '['
    Array items;
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return Value(std::move(items));
    }
    while (true) {
      skip_whitespace();
      items.push_back(any(depth));
      skip_whitespace();
      if (peek() == ']') {
        ++pos_;
        return Value(std::move(items));
      }
      expect(',', "',' or ']' in an array");
    }
  }

  Value object(int depth) {
    check_depth(depth);
    ++pos_;  // '{'
    Object members;
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return Value(std::move(members));
    }
    while (true) {
      skip_whitespace();
      const size_t key_pos = pos_;
      if (peek() != '"') fail("expected a string key in an object");
      std::string key = string();
      for (const auto& member : members) {
        if (member.first == key) fail_at(key_pos, "duplicate key \"" + key + "\"");
      }
      skip_whitespace();
      expect(':', "':' after an object key");
      skip_whitespace();
      members.emplace_back(std::move(key), any(depth));
      skip_whitespace();
      if (peek() == '}') {
        ++pos_;
        return Value(std::move(members));
      }
      expect(',', "',' or '}' in an object");
    }
  }

  // Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  double number() {
    const size_t start = pos_;
    auto digits = [this]() {
      const size_t first = pos_;
      while (peek() >= '0' && peek() <= '9') ++pos_;
      if (pos_ == first) fail("expected a digit");
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (peek() >= '0' && peek() <= '9') fail("leading zeros are not allowed");
    } else {
      digits();
    }
    if (peek() == '.') {
      ++pos_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      digits();
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    const auto result = std::from_chars(first, last, value);
    // Overflow to infinity and underflow to zero both lose the value: refuse rather than guess.
    if (result.ec == std::errc::result_out_of_range) fail_at(start, "number out of the range of a double");
    if (result.ec != std::errc() || result.ptr != last) fail_at(start, "malformed number");
    return value;
  }

  unsigned hex4() {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      unsigned digit;
      if (c >= '0' && c <= '9') digit = c - '0';
      else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      else fail("expected 4 hex digits after \\u");
      code = code * 16 + digit;
      ++pos_;
    }
    return code;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // After the 'u' of a \u escape: one code point, joining a UTF-16 surrogate pair.
  uint32_t unicode_escape() {
    const size_t start = pos_ - 2;
    const unsigned high = hex4();
    if (high >= 0xDC00 && high <= 0xDFFF) fail_at(start, "lone low surrogate in \\u escape");
    if (high < 0xD800 || high > 0xDBFF) return high;
    if (peek() != '\\' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u') {
      fail_at(start, "high surrogate not followed by a \\u low surrogate");
    }
    pos_ += 2;
    const unsigned low = hex4();
    if (low < 0xDC00 || low > 0xDFFF) fail_at(start, "high surrogate not followed by a low surrogate");
    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
  }

  // One well-formed UTF-8 sequence (no overlongs, no surrogates, at most U+10FFFF), copied.
  void utf8_sequence(std::string& out) {
    const auto lead = static_cast<unsigned char>(peek());
    int length;
    uint32_t code, min_code;
    if (lead >= 0xC2 && lead <= 0xDF) { length = 2; code = lead & 0x1F; min_code = 0x80; }
    else if (lead >= 0xE0 && lead <= 0xEF) { length = 3; code = lead & 0x0F; min_code = 0x800; }
    else if (lead >= 0xF0 && lead <= 0xF4) { length = 4; code = lead & 0x07; min_code = 0x10000; }
    else fail("invalid UTF-8 byte");
    const size_t start = pos_;
    for (int i = 1; i < length; ++i) {
      if (start + i >= text_.size()) fail_at(start, "truncated UTF-8 sequence");
      const auto next = static_cast<unsigned char>(text_[start + i]);
      if ((next & 0xC0) != 0x80) fail_at(start, "invalid UTF-8 sequence");
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail_at(start, "invalid UTF-8 sequence");
    }
    out.append(text_, start, length);
    pos_ += length;
  }

  std::string string() {
    const size_t open = pos_;
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (at_end()) fail_at(open, "unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in a string (escape it)");
      if (c >= 0x80) {
        utf8_sequence(out);
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, unicode_escape()); break;
        default: fail_at(pos_ - 2, "invalid escape in a string");
      }
    }
  }

  const std::string& text_;
  const int max_depth_;
  size_t pos_ = 0;
};

void write_string(std::string& out, const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

bool all_numbers(const Array& array) {
  for (const Value& v : array) {
    if (!v.is(Type::kNumber)) return false;
  }
  return true;
}

void newline(std::string& out, int indent, int level) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent) * level, ' ');
}

void write_value(std::string& out, const Value& value, int indent, int level) {
  switch (value.type()) {
    case Type::kNull: out += "null"; return;
    case Type::kBool: out += value.as_bool() ? "true" : "false"; return;
    case Type::kNumber: out += format_number(value.as_number()); return;
    case Type::kString: write_string(out, value.as_string()); return;
    case Type::kArray: {
      const Array& items = value.as_array();
      const bool inline_items = indent < 0 || items.empty() || all_numbers(items);
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += inline_items && indent >= 0 ? ", " : ",";
        if (!inline_items) newline(out, indent, level + 1);
        write_value(out, items[i], indent, level + 1);
      }
      if (!inline_items) newline(out, indent, level);
      out += ']';
      return;
    }
    case Type::kObject: {
      const Object& members = value.as_object();
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        newline(out, indent, level + 1);
        write_string(out, members[i].first);
        out += indent < 0 ? ":" : ": ";
        write_value(out, members[i].second, indent, level + 1);
      }
      if (!members.empty()) newline(out, indent, level);
      out += '}';
      return;
    }
  }
}

[[noreturn]] void file_error(const std::string& what, const std::string& path, int error) {
  throw InvalidInput("path", what + " '" + path + "': " + std::strerror(error));
}

// Owns a temp file until it is renamed into place: closes and removes it on every failure path.
class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    const std::filesystem::path target_path(target);
    const std::filesystem::path folder = target_path.has_parent_path() ? target_path.parent_path() : ".";
    const std::string pattern = (folder / ("." + target_path.filename().string() + ".tmp-XXXXXX")).string();
    name_.assign(pattern.begin(), pattern.end());
    name_.push_back('\0');
    fd_ = ::mkstemp(name_.data());
    if (fd_ < 0) file_error("cannot create a temporary file for", target, errno);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(name_.data());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write_all(const std::string& text, const std::string& target) {
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) file_error("cannot write", target, errno);
      done += static_cast<size_t>(n);
    }
  }

  // mkstemp creates the file private (0600); a saved file gets the mode of the one it replaces, or
  // 0644 when new.
  void set_mode(const std::string& target) {
    struct stat existing;
    const mode_t mode = ::stat(target.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : 0644;
    if (::fchmod(fd_, mode) != 0) file_error("cannot set the mode of the temporary file for", target, errno);
  }

  void sync_and_close(const std::string& target) {
    if (::fsync(fd_) != 0) file_error("cannot flush", target, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) file_error("cannot close", target, errno);
  }

  void rename_to(const std::string& target) {
    if (::rename(name_.data(), target.c_str()) != 0) file_error("cannot replace", target, errno);
    renamed_ = true;
  }

 private:
  std::vector<char> name_;
  int fd_ = -1;
  bool renamed_ = false;
};

// Makes a finished rename durable. Best effort: the new file is already in place, so a failure
// here is not reported as a failed save.
void sync_folder_of(const std::string& target) {
  const std::filesystem::path target_path(target);
  const std::string folder = target_path.has_parent_path() ? target_path.parent_path().string() : ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
  if (path.empty()) throw InvalidInput("path", "is empty");
  TempFile temp(path);
  temp.write_all(text, path);
  temp.set_mode(path);
  temp.sync_and_close(path);
  temp.rename_to(path);
  sync_folder_of(path);
}

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) file_error("cannot open", path, errno);
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) file_error("cannot read", path, errno);
  return text;
}

const char* type_name(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "a boolean";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "an unknown type";
}

const Value* Value::find(const std::string& key) const {
  if (!is(Type::kObject)) return nullptr;
  for (const auto& member : as_object()) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

Value parse(const std::string& text, int max_depth) { return Parser(text, max_depth).document(); }

std::string write(const Value& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

std::string format_number(double number) {
  if (!std::isfinite(number)) {
    throw InvalidInput("json", "cannot write a non-finite number (JSON has no NaN or infinity)");
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, result.ptr);
}

}  // namespace ssr::json
