#include "text_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <unordered_set>

#include "errors.h"

namespace ssr {
namespace {

constexpr std::string_view kCameraAnchor = "camera";
constexpr std::string_view kRoomAnchor = "room";
constexpr std::string_view kUnits[] = {"m", "cm", "m2"};
constexpr size_t kMaxObjectNumberDigits = 6;  // as parse_object_id in scene_graph.cpp
constexpr size_t kMaxQuotedChars = 40;        // longer words are cut in error messages

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_label_char(char c) { return is_lower(c) || is_digit(c) || c == '_'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_whitespace(char c) { return is_blank(c) || c == '\n' || c == '\r'; }

bool is_label(std::string_view s) {
  return !s.empty() && is_lower(s[0]) && std::all_of(s.begin(), s.end(), is_label_char);
}

bool is_object_id(std::string_view s) {
  const size_t hash = s.find('#');
  if (hash == std::string_view::npos) return false;
  const std::string_view number = s.substr(hash + 1);
  return is_label(s.substr(0, hash)) && !number.empty() && number.size() <= kMaxObjectNumberDigits &&
         number[0] != '0' && std::all_of(number.begin(), number.end(), is_digit);
}

bool is_predicate(std::string_view s) {
  return std::any_of(std::begin(kPredicates), std::end(kPredicates),
                     [&](const char* p) { return s == p; });
}

bool is_unit(std::string_view s) {
  return std::find(std::begin(kUnits), std::end(kUnits), s) != std::end(kUnits);
}

bool is_anchor_keyword(std::string_view s) { return s == kCameraAnchor || s == kRoomAnchor; }

// Messages quote only label characters and digits (ASCII), cut short so a huge word cannot make a
// huge message.
std::string quoted(std::string_view s) {
  if (s.size() > kMaxQuotedChars) return "'" + std::string(s.substr(0, kMaxQuotedChars)) + "...'";
  return "'" + std::string(s) + "'";
}

std::string labels_phrase(int n) { return std::to_string(n) + (n == 1 ? " label" : " labels"); }

std::string arity_phrase(QueryArity arity) {
  if (arity.min_args == arity.max_args) return "exactly " + labels_phrase(arity.min_args);
  return std::to_string(arity.min_args) + " to " + labels_phrase(arity.max_args);
}

// ---- serializer ---------------------------------------------------------------------------------

// Two decimals, locale-independent; "-0.00" becomes "0.00" so zero has one spelling.
std::string format_number(double value, const std::string& field) {
  if (!std::isfinite(value)) throw InvalidInput(field, "must be finite");
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 2);
  std::string text(buffer, ec == std::errc() ? end : buffer);
  if (ec != std::errc() || text.size() > static_cast<size_t>(kMaxNumberChars)) {
    throw InvalidInput(field, "too large to write as a number of at most " +
                                  std::to_string(kMaxNumberChars) + " characters");
  }
  return text == "-0.00" ? "0.00" : text;
}

// A value the parser requires to be > 0 must not round to 0.00.
std::string format_positive(double value, const std::string& field) {
  std::string text = format_number(value, field);
  if (!(value > 0)) throw InvalidInput(field, "must be > 0");
  if (text == "0.00") throw InvalidInput(field, "must be >= 0.005 to be written with two decimals");
  return text;
}

void require_object_id(const std::string& id, const std::string& field) {
  if (!is_object_id(id)) {
    throw InvalidInput(field, "'" + id + "' is not an object id label#n (label [a-z][a-z0-9_]*, n 1..999999)");
  }
}

void require_cell_index(int index, const std::string& field) {
  if (index < 0 || index >= kCogMapSize) {
    throw InvalidInput(field, "cell index " + std::to_string(index) + " outside 0..9");
  }
}

// ---- parser -------------------------------------------------------------------------------------

enum class Kind { kBox, kTriplet, kCogMap, kAnswer, kQuery, kResult };

struct TagSpelling {
  std::string_view name;  // after '<'
  Kind kind;
  const char* shown;      // in messages
};
constexpr TagSpelling kTags[] = {{"box", Kind::kBox, "<box>"},
                                 {"tri", Kind::kTriplet, "<tri>"},
                                 {"cog", Kind::kCogMap, "<cog>"},
                                 {"ans", Kind::kAnswer, "<ans>"},
                                 {"q", Kind::kQuery, "<q>"},
                                 {"res", Kind::kResult, "<res>"}};

// Single pass over the text, one character of lookahead, no recursion. Elements never span lines,
// so the line only changes between elements.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<TextElement> document() {
    std::vector<TextElement> elements;
    for (skip_whitespace(); !at_end(); skip_whitespace()) elements.push_back(element(open_tag()));
    return elements;
  }

  // The text must hold exactly one element, of kind `wanted`.
  TextElement single(Kind wanted, const char* shown) {
    skip_whitespace();
    if (at_end()) fail(std::string("expected a ") + shown + " element, found no element");
    const size_t start = pos_;
    const Kind kind = open_tag();
    if (kind != wanted) fail_at(start, std::string("expected a ") + shown + " element, found " + open_tag_);
    TextElement result = element(kind);
    skip_whitespace();
    if (!at_end()) fail(std::string("expected the end of the text after the ") + shown + " element");
    return result;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    throw ParseError(line_, static_cast<int>(at - line_start_ + 1), what);
  }

  // Error at the current character. At the end of the text inside an element, the text is a
  // prefix: the element is unterminated.
  [[noreturn]] void fail(const std::string& what) const {
    if (at_end() && open_tag_ != nullptr) fail_at(pos_, std::string("unterminated ") + open_tag_ + ": " + what);
    fail_at(pos_, what);
  }

  // A token is only complete once a character follows it (the text may be a prefix).
  void require_more(const std::string& name) const {
    if (at_end()) fail(name + " is cut off by the end of the text");
  }

  void skip_whitespace() {
    for (; !at_end() && is_whitespace(text_[pos_]); ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
    }
  }

  void expect_literal(std::string_view literal, const std::string& what) {
    for (char c : literal) {
      if (peek() != c || at_end()) fail(what);
      ++pos_;
    }
  }

  void expect_blank(const std::string& after) {
    if (!is_blank(peek())) fail("expected a space after " + after);
    while (is_blank(peek())) ++pos_;
  }

  void skip_digits() {
    while (is_digit(peek())) ++pos_;
  }

  std::string_view scan_word() {
    const size_t start = pos_;
    while (is_label_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // -?[0-9]+(\.[0-9]+)?, at most kMaxNumberChars characters.
  double number(const std::string& name) {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (!is_digit(peek())) fail("expected a digit in " + name);
    skip_digits();
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) fail("expected a digit after '.' in " + name);
      skip_digits();
    }
    require_more(name);
    if (pos_ - start > static_cast<size_t>(kMaxNumberChars)) {
      fail_at(start, name + " is longer than " + std::to_string(kMaxNumberChars) + " characters");
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc() || end != text_.data() + pos_) fail_at(start, name + " is out of range");
    return value;
  }

  double positive_number(const std::string& name) {
    const size_t start = pos_;
    const double value = number(name);
    if (!(value > 0)) fail_at(start, name + " must be > 0");
    return value;
  }

  // `key` (e.g. "y=") then a number; `previous` names what precedes it, for the message.
  double keyed_number(std::string_view key, const std::string& previous, bool positive) {
    expect_literal(key, "expected '" + std::string(key) + "' after " + previous);
    const std::string name = std::string(key.substr(0, key.size() - 1)) + " value";
    return positive ? positive_number(name) : number(name);
  }

  std::string object_id(const std::string& name) {
    const size_t start = pos_;
    if (!is_lower(peek())) fail("expected " + name + " (an object id label#n)");
    scan_word();
    if (peek() != '#') fail("expected '#' and a number after the label of " + name);
    ++pos_;
    if (peek() < '1' || peek() > '9') fail("expected a number 1.. after '#' in " + name);
    const size_t digits_start = pos_;
    skip_digits();
    if (pos_ - digits_start > kMaxObjectNumberDigits) {
      fail_at(digits_start, "object number in " + name + " is longer than " +
                                std::to_string(kMaxObjectNumberDigits) + " digits");
    }
    require_more(name);
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string label(const std::string& name) {
    if (!is_lower(peek())) fail("expected " + name + " ([a-z][a-z0-9_]*)");
    const std::string_view word = scan_word();
    require_more(name);
    return std::string(word);
  }

  Kind open_tag() {
    const size_t start = pos_;
    if (peek() != '<') fail("expected an element: <box>, <tri>, <cog ...>, <ans>, <q> or <res>");
    ++pos_;
    const std::string_view name = scan_word();
    const auto tag = std::find_if(std::begin(kTags), std::end(kTags),
                                  [&](const TagSpelling& t) { return t.name == name; });
    if (tag == std::end(kTags)) {
      if (at_end()) fail_at(pos_, "unterminated element " + quoted("<" + std::string(name)));
      fail_at(start + 1, "unknown element " + quoted("<" + std::string(name)) +
                             "; expected box, tri, cog, ans, q or res after '<'");
    }
    open_tag_ = tag->shown;
    if (tag->kind == Kind::kCogMap) {
      if (!is_blank(peek())) fail("expected a space after '<cog'");
    } else {
      expect_literal(">", "expected '>' after '<" + std::string(name) + "'");
    }
    return tag->kind;
  }

  void close_tag(const char* closing, const std::string& after) {
    expect_literal(closing, std::string("expected '") + closing + "' after " + after);
    open_tag_ = nullptr;
  }

  TextElement element(Kind kind) {
    switch (kind) {
      case Kind::kBox: return box();
      case Kind::kTriplet: return triplet();
      case Kind::kCogMap: return cogmap();
      case Kind::kAnswer: return answer();
      case Kind::kQuery: return query();
      case Kind::kResult: return result();
    }
    fail("unknown element kind");
  }

  BoxText box() {
    expect_blank("'<box>'");
    BoxText record;
    record.id = object_id("the box id");
    expect_blank("the box id");
    double* fields[] = {&record.box.center.x, &record.box.center.y, &record.box.center.z, &record.box.size.x,
                        &record.box.size.y,   &record.box.size.z,   &record.box.yaw};
    constexpr std::string_view keys[] = {"x=", "y=", "z=", "l=", "w=", "h=", "yaw="};
    std::string previous = "the box id";
    for (size_t k = 0; k < std::size(keys); ++k) {
      const bool is_size = k >= 3 && k < 6;
      *fields[k] = keyed_number(keys[k], previous, is_size);
      previous = std::string(keys[k].substr(0, keys[k].size() - 1)) + " value";
      expect_blank(previous);
    }
    close_tag("</box>", previous);
    return record;
  }

  Triplet triplet() {
    expect_blank("'<tri>'");
    Triplet t;
    t.subject = object_id("the subject");
    expect_blank("the subject");
    t.predicate = predicate();
    expect_blank("the predicate");
    t.object = object_id("the object");
    expect_blank("the object");
    t.offset.x = keyed_number("dx=", "the object", false);
    expect_blank("dx value");
    t.offset.y = keyed_number("dy=", "dx value", false);
    expect_blank("dy value");
    t.offset.z = keyed_number("dz=", "dy value", false);
    expect_blank("dz value");
    close_tag("</tri>", "dz value");
    return t;
  }

  std::string predicate() {
    const size_t start = pos_;
    const std::string_view word = scan_word();
    if (word.empty()) fail("expected a predicate (on, under, above, below, next_to, near, far_from)");
    require_more("the predicate");
    if (!is_predicate(word)) fail_at(start, "unknown predicate " + quoted(word));
    return std::string(word);
  }

  CogMap cogmap() {
    expect_blank("'<cog'");
    CogMap map;
    expect_literal("anchor=", "expected 'anchor=' after '<cog'");
    map.anchor = anchor();
    expect_blank("the anchor");
    map.res = keyed_number("res=", "the anchor", true);
    if (is_anchor_keyword(map.anchor)) {
      map.at = grid_centre(map.anchor);
    } else if (peek() != '>') {
      reject_centre_for_object_anchor(map.anchor);
    }
    expect_literal(">", map.at ? "expected '>' after at=(x,y)" : "expected '>' after res value");
    expect_blank("the '<cog ...>' header");
    cells(map);
    return map;
  }

  std::string anchor() {
    const size_t start = pos_;
    if (!is_lower(peek())) fail("expected an anchor: an object id, 'camera' or 'room'");
    const std::string_view word = scan_word();
    if (peek() == '#') {
      pos_ = start;
      return object_id("the anchor");
    }
    require_more("the anchor");
    if (!is_anchor_keyword(word)) {
      fail_at(start, "anchor " + quoted(word) + " is neither an object id (label#n) nor 'camera' or 'room'");
    }
    return std::string(word);
  }

  // ` at=(x,y)` after the res value, required for camera/room anchors.
  Vec2 grid_centre(const std::string& anchor) {
    const std::string missing = "expected ' at=(x,y)' after res value (required for anchor '" + anchor + "')";
    if (!is_blank(peek())) fail(missing);
    while (is_blank(peek())) ++pos_;
    expect_literal("at=(", missing);
    Vec2 centre;
    centre.x = number("at x value");
    expect_literal(",", "expected ',' after at x value");
    centre.y = number("at y value");
    expect_literal(")", "expected ')' after at y value");
    return centre;
  }

  // Points at `at=` when an object-anchored map gives a centre; otherwise the '>' is missing.
  void reject_centre_for_object_anchor(const std::string& anchor) {
    const size_t space = pos_;
    while (is_blank(peek())) ++pos_;
    if (pos_ > space && text_.substr(pos_, 3) == "at=") {
      fail("at=(x,y) is only allowed for camera/room anchors, not for object anchor " + quoted(anchor));
    }
    pos_ = space;
    fail("expected '>' after res value");
  }

  // `id (i,j); id (i,j) </cog>` or just `</cog>`.
  void cells(CogMap& map) {
    std::unordered_set<std::string_view> seen;
    if (peek() == '<') {
      close_tag("</cog>", "the '<cog ...>' header");
      return;
    }
    for (;;) {
      map.cells.push_back(cell(seen));
      if (peek() == ';') {
        ++pos_;
        expect_blank("';'");
        continue;
      }
      expect_blank("cell (i,j)");
      if (peek() != '<') fail("expected '</cog>' or, between cells, '; '");
      close_tag("</cog>", "the last cell");
      return;
    }
  }

  CogMapCell cell(std::unordered_set<std::string_view>& seen) {
    const size_t start = pos_;
    CogMapCell c;
    c.id = object_id("a cell id");
    if (!seen.insert(text_.substr(start, c.id.size())).second) {
      fail_at(start, "duplicate id " + quoted(c.id) + " in one cog map");
    }
    expect_blank("the cell id");
    expect_literal("(", "expected '(' after the cell id");
    c.i = cell_index("cell index i");
    expect_literal(",", "expected ',' after cell index i");
    c.j = cell_index("cell index j");
    expect_literal(")", "expected ')' after cell index j");
    return c;
  }

  int cell_index(const std::string& name) {
    const size_t start = pos_;
    if (!is_digit(peek())) fail("expected " + name + " (a digit 0..9)");
    skip_digits();
    require_more(name);
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.size() > 1) {
      fail_at(start, digits[0] == '0' ? name + " " + quoted(digits) + " must be one digit 0..9"
                                      : "cell index " + std::string(digits.substr(0, kMaxQuotedChars)) +
                                            " outside 0..9");
    }
    return digits[0] - '0';
  }

  Answer answer() {
    expect_blank("'<ans>'");
    return answer_body("</ans>");
  }

  EngineResult result() {
    expect_blank("'<res>'");
    if (peek() == 'n') {
      const size_t start = pos_;
      const std::string_view word = scan_word();
      if (word != "none") fail_at(start, "expected a number, an option letter A-Z or 'none'");
      expect_blank("'none'");
      close_tag("</res>", "'none'");
      return EngineResult{};
    }
    return EngineResult{answer_body("</res>")};
  }

  // An answer's value (a number with an optional unit, or an option letter), then `closing`.
  Answer answer_body(const char* closing) {
    Answer a;
    if (peek() >= 'A' && peek() <= 'Z') {
      a.choice = peek();
      ++pos_;
      require_more("the option letter");
      if (!is_blank(peek())) fail("expected a space after the option letter (one letter A-Z)");
      expect_blank("the option letter");
      close_tag(closing, "the option letter");
      return a;
    }
    if (peek() != '-' && !is_digit(peek())) fail("expected a number or an option letter A-Z");
    a.value = number("the answer value");
    expect_blank("the answer value");
    if (peek() == '<') {
      close_tag(closing, "the answer value");
      return a;
    }
    a.unit = unit(closing);
    expect_blank("the unit");
    close_tag(closing, "the unit");
    return a;
  }

  std::string unit(const char* closing) {
    const size_t start = pos_;
    const std::string_view word = scan_word();
    if (word.empty()) fail(std::string("expected a unit (m, cm, m2) or '") + closing + "'");
    require_more("the unit");
    if (!is_unit(word)) fail_at(start, "unknown unit " + quoted(word) + " (expected m, cm or m2)");
    return std::string(word);
  }

  Query query() {
    expect_blank("'<q>'");
    Query q;
    const size_t start = pos_;
    const std::string_view task = scan_word();
    if (task.empty()) fail("expected a task key");
    require_more("the task key");
    if (std::none_of(std::begin(kTaskKeys), std::end(kTaskKeys), [&](const char* k) { return task == k; })) {
      fail_at(start, "unknown task " + quoted(task));
    }
    q.task = std::string(task);
    const QueryArity arity = query_arity(task);
    expect_blank("the task key");
    while (peek() != '<') {
      if (static_cast<int>(q.args.size()) == arity.max_args && is_lower(peek())) {
        fail("too many labels: " + q.task + " takes " + arity_phrase(arity));
      }
      q.args.push_back(label("a label"));
      expect_blank("the label");
    }
    if (static_cast<int>(q.args.size()) < arity.min_args) {
      fail("too few labels: " + q.task + " takes " + arity_phrase(arity) + ", got " +
           std::to_string(q.args.size()));
    }
    close_tag("</q>", q.args.empty() ? "the task key" : "the last label");
    return q;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  const char* open_tag_ = nullptr;  // the element being read, for "unterminated" messages
};

template <class T>
T parse_single(std::string_view text, Kind kind, const char* shown) {
  return std::get<T>(Parser(text).single(kind, shown));
}

}  // namespace

void validate_answer(const Answer& answer, const std::string& field) {
  if (answer.value.has_value() == (answer.choice != 0)) {
    throw InvalidInput(field, "exactly one of value and choice must be set");
  }
  if (answer.value) {
    if (!std::isfinite(*answer.value)) throw InvalidInput(field + ".value", "must be finite");
    if (!answer.unit.empty() && !is_unit(answer.unit)) {
      throw InvalidInput(field + ".unit", "'" + answer.unit + "' is not one of '', 'm', 'cm', 'm2'");
    }
    return;
  }
  if (answer.choice < 'A' || answer.choice > 'Z') {
    throw InvalidInput(field + ".choice", "must be one capital letter A-Z");
  }
  if (!answer.unit.empty()) throw InvalidInput(field + ".unit", "must be empty for a multiple-choice answer");
}

std::string format_box(const BoxText& record) {
  require_object_id(record.id, "box.id");
  validate_box(record.box, "box.box");
  const Box3D& b = record.box;
  return "<box> " + record.id + " x=" + format_number(b.center.x, "box.center") +
         " y=" + format_number(b.center.y, "box.center") + " z=" + format_number(b.center.z, "box.center") +
         " l=" + format_positive(b.size.x, "box.size") + " w=" + format_positive(b.size.y, "box.size") +
         " h=" + format_positive(b.size.z, "box.size") + " yaw=" + format_number(b.yaw, "box.yaw") + " </box>";
}

std::string format_triplet(const Triplet& t) {
  require_object_id(t.subject, "triplet.subject");
  require_object_id(t.object, "triplet.object");
  if (!is_predicate(t.predicate)) {
    throw InvalidInput("triplet.predicate",
                       "'" + t.predicate + "' is not one of on, under, above, below, next_to, near, far_from");
  }
  return "<tri> " + t.subject + " " + t.predicate + " " + t.object +
         " dx=" + format_number(t.offset.x, "triplet.offset") + " dy=" + format_number(t.offset.y, "triplet.offset") +
         " dz=" + format_number(t.offset.z, "triplet.offset") + " </tri>";
}

std::string format_cogmap(const CogMap& map) {
  if (is_anchor_keyword(map.anchor)) {
    if (!map.at) throw InvalidInput("cogmap.at", "required for anchor '" + map.anchor + "'");
  } else {
    require_object_id(map.anchor, "cogmap.anchor");
    if (map.at) throw InvalidInput("cogmap.at", "only allowed for camera/room anchors");
  }
  std::string out = "<cog anchor=" + map.anchor + " res=" + format_positive(map.res, "cogmap.res");
  if (map.at) out += " at=(" + format_number(map.at->x, "cogmap.at") + "," + format_number(map.at->y, "cogmap.at") + ")";
  out += "> ";
  std::unordered_set<std::string_view> seen;
  for (size_t k = 0; k < map.cells.size(); ++k) {
    const CogMapCell& c = map.cells[k];
    const std::string field = "cogmap.cells[" + std::to_string(k) + "]";
    require_object_id(c.id, field + ".id");
    if (!seen.insert(c.id).second) throw InvalidInput(field + ".id", "duplicate id '" + c.id + "'");
    require_cell_index(c.i, field + ".i");
    require_cell_index(c.j, field + ".j");
    if (k > 0) out += "; ";
    out += c.id + " (" + std::to_string(c.i) + "," + std::to_string(c.j) + ")";
  }
  return out + (map.cells.empty() ? "</cog>" : " </cog>");
}

std::string format_answer(const Answer& answer) {
  validate_answer(answer, "answer");
  if (!answer.value) return std::string("<ans> ") + answer.choice + " </ans>";
  std::string out = "<ans> " + format_number(*answer.value, "answer.value");
  if (!answer.unit.empty()) out += " " + answer.unit;
  return out + " </ans>";
}

std::string format_result(const EngineResult& result) {
  if (!result.answer) return "<res> none </res>";
  const std::string answer = format_answer(*result.answer);  // "<ans> BODY </ans>"
  return "<res>" + answer.substr(5, answer.size() - 11) + "</res>";
}

std::string format_query(const Query& query) {
  const QueryArity arity = query_arity(query.task);
  const int n = static_cast<int>(query.args.size());
  if (n < arity.min_args || n > arity.max_args) {
    throw InvalidInput("query.args", query.task + " takes " + arity_phrase(arity) + ", got " + std::to_string(n));
  }
  std::string out = "<q> " + query.task;
  for (const std::string& arg : query.args) {
    if (!is_label(arg)) throw InvalidInput("query.args", "'" + arg + "' is not a label [a-z][a-z0-9_]*");
    out += " " + arg;
  }
  return out + " </q>";
}

std::string format_element(const TextElement& element) {
  struct Formatter {
    std::string operator()(const BoxText& r) const { return format_box(r); }
    std::string operator()(const Triplet& t) const { return format_triplet(t); }
    std::string operator()(const CogMap& m) const { return format_cogmap(m); }
    std::string operator()(const Answer& a) const { return format_answer(a); }
    std::string operator()(const Query& q) const { return format_query(q); }
    std::string operator()(const EngineResult& r) const { return format_result(r); }
  };
  return std::visit(Formatter{}, element);
}

std::string format_document(const std::vector<TextElement>& elements) {
  std::string out;
  for (size_t k = 0; k < elements.size(); ++k) {
    if (k > 0) out += '\n';
    out += format_element(elements[k]);
  }
  return out;
}

std::vector<TextElement> parse_document(std::string_view text) { return Parser(text).document(); }

BoxText parse_box(std::string_view text) { return parse_single<BoxText>(text, Kind::kBox, "<box>"); }
Triplet parse_triplet(std::string_view text) { return parse_single<Triplet>(text, Kind::kTriplet, "<tri>"); }
CogMap parse_cogmap(std::string_view text) { return parse_single<CogMap>(text, Kind::kCogMap, "<cog>"); }
Answer parse_answer(std::string_view text) { return parse_single<Answer>(text, Kind::kAnswer, "<ans>"); }
Query parse_query(std::string_view text) { return parse_single<Query>(text, Kind::kQuery, "<q>"); }
EngineResult parse_result(std::string_view text) {
  return parse_single<EngineResult>(text, Kind::kResult, "<res>");
}

}  // namespace ssr
