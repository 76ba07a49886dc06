#include "bindings.h"

void init_camera(py::module_& m) { (void)m; }
