// The text formats the language model reads and writes (docs/FORMATS.md is the one definition):
// a serializer that writes one canonical line per element, and a strict single-pass parser that
// reports the line and column of the first offending character.
//
// The parser is hand-written on purpose: one pass, no recursion, no regex, every token bounded
// (numbers <= 32 characters), so no input, however long or hostile, can overflow the stack or
// take more than linear time. Text that ends inside an element (a prefix of a longer stream) is a
// ParseError at the end of the text whose message starts with "unterminated <tag>".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cogmap.h"
#include "geometry.h"
#include "query.h"
#include "scene_graph.h"

namespace ssr {

// `<box> chair#2 x=.. y=.. z=.. l=.. w=.. h=.. yaw=.. </box>`: an object's 7-DoF box.
struct BoxText {
  std::string id;  // object id, label#n
  Box3D box;       // world frame, metres; l, w, h > 0
};

// `<ans> 3.52 m </ans>` or `<ans> B </ans>`: a numeric answer with an optional unit, or one
// capital option letter. Exactly one of `value` and `choice` is set.
struct Answer {
  std::optional<double> value;  // numeric answer, in `unit`
  std::string unit;             // "", "m", "cm" or "m2"; numeric answers only
  char choice = 0;              // 'A'..'Z' for a multiple-choice answer, 0 otherwise
};

// `<res> 3.52 m </res>`, `<res> B </res>` or `<res> none </res>`: what the query engine made of the
// `<q>` program before it, as the runtime writes it back for the model to read (the model never
// writes one). The body is an answer's; `none` (no `answer`) when the program could not run.
struct EngineResult {
  std::optional<Answer> answer;
};

// One element of a document, in the order the text holds them.
using TextElement = std::variant<BoxText, Triplet, CogMap, Answer, Query, EngineResult>;

// Longest number token the parser accepts, in characters (sign and point included).
inline constexpr int kMaxNumberChars = 32;

// Throws InvalidInput naming `field` unless exactly one of value/choice is set, the value is
// finite, the unit is "", "m", "cm" or "m2" (and empty for choices) and the choice is 'A'..'Z'.
void validate_answer(const Answer& answer, const std::string& field);

// One line per element, numbers with two decimals ("-0.00" written as "0.00"). Each throws
// InvalidInput naming the field when the record could not be read back by the parser (bad id,
// unknown predicate or task, wrong argument count, cell outside 0..9, duplicate cell id, a size
// or res that rounds to 0.00, a number longer than kMaxNumberChars, ...).
std::string format_box(const BoxText& record);
std::string format_triplet(const Triplet& triplet);
std::string format_cogmap(const CogMap& map);
std::string format_answer(const Answer& answer);
std::string format_result(const EngineResult& result);
std::string format_query(const Query& query);
std::string format_element(const TextElement& element);
// The elements joined with '\n' (no trailing newline).
std::string format_document(const std::vector<TextElement>& elements);

// Every element of `text`, in order. Throws ParseError(line, column, what) at the first error.
std::vector<TextElement> parse_document(std::string_view text);

// `text` must hold exactly one element of the named kind (surrounding whitespace allowed).
BoxText parse_box(std::string_view text);
Triplet parse_triplet(std::string_view text);
CogMap parse_cogmap(std::string_view text);
Answer parse_answer(std::string_view text);
EngineResult parse_result(std::string_view text);
Query parse_query(std::string_view text);

}  // namespace ssr
