#include "bindings.h"

void init_scene_graph(py::module_& m) { (void)m; }
