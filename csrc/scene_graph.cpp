#include "scene_graph.h"
