#include "bindings.h"

void init_pointcloud(py::module_& m) { (void)m; }
