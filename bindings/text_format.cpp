#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <string_view>

#include "bindings.h"
#include "errors.h"
#include "text_format.h"

namespace {

using GilFree = py::call_guard<py::gil_scoped_release>;

bool same_box(const ssr::Box3D& a, const ssr::Box3D& b) {
  return a.center.x == b.center.x && a.center.y == b.center.y && a.center.z == b.center.z &&
         a.size.x == b.size.x && a.size.y == b.size.y && a.size.z == b.size.z && a.yaw == b.yaw;
}

ssr::Answer make_answer(std::optional<double> value, const std::string& unit,
                        const std::optional<std::string>& choice) {
  ssr::Answer answer{value, unit, 0};
  if (choice) {
    if (choice->size() != 1) throw ssr::InvalidInput("answer.choice", "must be one capital letter A-Z");
    answer.choice = (*choice)[0];
  }
  ssr::validate_answer(answer, "answer");
  return answer;
}

void bind_records(py::module_& m) {
  py::class_<ssr::BoxText>(m, "BoxText", "A `<box>` element: object id `label#n` and its 7-DoF box (world frame, metres).")
      .def(py::init([](const std::string& id, const ssr::Box3D& box) { return ssr::BoxText{id, box}; }),
           py::arg("id"), py::arg("box"))
      .def_readonly("id", &ssr::BoxText::id)
      .def_readonly("box", &ssr::BoxText::box)
      .def("__eq__", [](const ssr::BoxText& a, const ssr::BoxText& b) { return a.id == b.id && same_box(a.box, b.box); })
      .def("__repr__", [](const ssr::BoxText& r) { return py::str("BoxText({!r}, {!r})").format(r.id, r.box); });

  py::class_<ssr::Answer>(m, "Answer",
                          "An `<ans>` element: a number `value` with an optional unit ('', 'm', 'cm', 'm2'), "
                          "or one option letter `choice` 'A'..'Z'. Exactly one of value/choice is set; "
                          "InvalidInputError otherwise.")
      .def(py::init(&make_answer), py::arg("value") = py::none(), py::arg("unit") = "",
           py::arg("choice") = py::none())
      .def_readonly("value", &ssr::Answer::value, "float, or None for a multiple-choice answer")
      .def_readonly("unit", &ssr::Answer::unit, "'', 'm', 'cm' or 'm2'")
      .def_property_readonly(
          "choice",
          [](const ssr::Answer& a) -> std::optional<std::string> {
            if (a.choice == 0) return std::nullopt;
            return std::string(1, a.choice);
          },
          "option letter 'A'..'Z', or None for a numeric answer")
      .def("__eq__", [](const ssr::Answer& a, const ssr::Answer& b) {
        return a.value == b.value && a.unit == b.unit && a.choice == b.choice;
      })
      .def("__repr__", [](const ssr::Answer& a) {
        if (a.choice != 0) return py::str("Answer(choice={!r})").format(std::string(1, a.choice));
        return py::str("Answer(value={!r}, unit={!r})").format(*a.value, a.unit);
      });

  py::class_<ssr::EngineResult>(m, "EngineResult",
                                "A `<res>` element: the query engine's result of the `<q>` program before "
                                "it, as the runtime writes it back for the model; `answer` None for "
                                "`<res> none </res>` (the program could not run).")
      .def(py::init([](std::optional<ssr::Answer> answer) { return ssr::EngineResult{std::move(answer)}; }),
           py::arg("answer") = py::none())
      .def_readonly("answer", &ssr::EngineResult::answer, "Answer, or None")
      .def("__eq__", [](const ssr::EngineResult& a, const ssr::EngineResult& b) {
        if (a.answer.has_value() != b.answer.has_value()) return false;
        return !a.answer || (a.answer->value == b.answer->value && a.answer->unit == b.answer->unit &&
                             a.answer->choice == b.answer->choice);
      })
      .def("__repr__", [](const ssr::EngineResult& r) {
        if (!r.answer) return py::str("EngineResult(None)");
        return py::str("EngineResult({!r})").format(py::cast(*r.answer));
      });
}

void bind_formatters(py::module_& m) {
  m.def("format_box", [](const std::string& id, const ssr::Box3D& box) { return ssr::format_box({id, box}); },
        py::arg("id"), py::arg("box"),
        "One `<box>` line: centre, size (l, w, h > 0) and yaw (rad) with two decimals. "
        "InvalidInputError on a bad id or box.");
  m.def("format_triplet", &ssr::format_triplet, py::arg("triplet"),
        "One `<tri>` line; the predicate must be one of on, under, above, below, next_to, near, far_from; offsets in metres with two decimals.");
  m.def("format_cogmap", &ssr::format_cogmap, py::arg("cogmap"),
        "One `<cog ...>` line. Anchor: object id, or 'camera'/'room' with `at`; cells 0..9, unique ids.");
  m.def("format_answer", &ssr::format_answer, py::arg("answer"), "One `<ans>` line.");
  m.def("format_result", &ssr::format_result, py::arg("result"), "One `<res>` line (`<res> none </res>` without an answer).");
  m.def("format_query", &ssr::format_query, py::arg("query"),
        "One `<q>` line; the task must be in TASK_KEYS with its number of label arguments.");
  m.def("format_document", &ssr::format_document, py::arg("records"),
        "The records (BoxText, Triplet, CogMap, Answer, Query, EngineResult) formatted one per line, joined with "
        "'\\n' (no trailing newline).");
}

void bind_parsers(py::module_& m) {
  // std::string_view reads the str's UTF-8 (or a bytes object) in place; the object stays alive
  // for the call, so the GIL can be released while parsing.
  m.def("parse_document", &ssr::parse_document, py::arg("text"), GilFree(),
        "Every element of `text` (str or bytes), in order: a list of BoxText, Triplet, CogMap, "
        "Answer, Query and EngineResult. ParseError (.line, .column: 1-based, columns in UTF-8 bytes) at the "
        "first malformed character; text that ends inside an element is 'unterminated'.");
  m.def("parse_box", &ssr::parse_box, py::arg("text"), GilFree(), "Exactly one `<box>` element -> BoxText.");
  m.def("parse_triplet", &ssr::parse_triplet, py::arg("text"), GilFree(), "Exactly one `<tri>` element -> Triplet.");
  m.def("parse_cogmap", &ssr::parse_cogmap, py::arg("text"), GilFree(), "Exactly one `<cog ...>` element -> CogMap.");
  m.def("parse_answer", &ssr::parse_answer, py::arg("text"), GilFree(), "Exactly one `<ans>` element -> Answer.");
  m.def("parse_query", &ssr::parse_query, py::arg("text"), GilFree(), "Exactly one `<q>` element -> Query.");
  m.def("parse_result", &ssr::parse_result, py::arg("text"), GilFree(), "Exactly one `<res>` element -> EngineResult.");
}

}  // namespace

void init_text_format(py::module_& m) {
  m.attr("MAX_NUMBER_CHARS") = ssr::kMaxNumberChars;
  bind_records(m);
  bind_formatters(m);
  bind_parsers(m);
}
