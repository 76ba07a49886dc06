#include "bindings.h"

void init_query(py::module_& m) { (void)m; }
