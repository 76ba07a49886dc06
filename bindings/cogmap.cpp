#include "bindings.h"

void init_cogmap(py::module_& m) { (void)m; }
