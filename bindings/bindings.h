// Shared declarations of the binding layer: one init_<topic> per csrc topic, called in order by
// module.cpp (classes before the functions that use them, so signatures show Python types).
#pragma once

#include <pybind11/pybind11.h>

namespace py = pybind11;

void init_geometry(py::module_& m);
void init_pointcloud(py::module_& m);
void init_camera(py::module_& m);
void init_scene_graph(py::module_& m);
void init_cogmap(py::module_& m);
void init_text_format(py::module_& m);
void init_query(py::module_& m);
