// Typed errors of the core. Every message names what is wrong (field, shape, line:column) so the
// Python side can show it as is; the bindings map each class to an ssr_runtime exception.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ssr {

// A number as it should read in an error message (shortest form, e.g. "0.3", "1e-07", "nan").
inline std::string describe_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Base of every error the core throws on bad input.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An argument is malformed: `field` names it (e.g. "depth", "T_wc", "box.size").
class InvalidInput : public Error {
 public:
  InvalidInput(const std::string& field, const std::string& what)
      : Error(field + ": " + what), field_(field) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Text could not be parsed; line and column are 1-based and point at the offending character.
class ParseError : public Error {
 public:
  ParseError(int line, int column, const std::string& what)
      : Error("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what),
        line_(line), column_(column) {}
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  int line_;
  int column_;
};

// A well-formed query cannot be answered on this scene (unknown label, ambiguous referent, ...).
class QueryError : public Error {
 public:
  using Error::Error;
};

}  // namespace ssr
