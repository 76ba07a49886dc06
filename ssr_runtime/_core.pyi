"""
ssr-runtime C++17 core: geometry, camera, scene graph, LocalCogMap, text formats, queries
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import os
import typing
__all__: list[str] = ['Answer', 'Box3D', 'BoxText', 'COGMAP_SIZE', 'CogMap', 'CogMapCell', 'CompositionReport', 'DIRECTION_BACK_MIN_DEG', 'Detection', 'DirectionAnswer', 'EngineResult', 'InvalidInputError', 'KeyframeSelector', 'LocalizationError', 'MAX_NUMBER_CHARS', 'MergeParams', 'Object', 'PATCH_FEATURES', 'PREDICATES', 'ParseError', 'Query', 'QueryError', 'QueryResult', 'ROUTE_BACK_MIN_DEG', 'ROUTE_FORWARD_MAX_DEG', 'RelDistanceAnswer', 'RouteAnswer', 'SceneGraph', 'SsrError', 'TASK_KEYS', 'Triplet', 'abs_distance', 'appearance_order', 'backproject', 'backproject_instances', 'box_distance', 'box_iou_3d', 'build_cogmap', 'build_cogmap_at', 'build_global_cogmap', 'derive_predicate', 'fit_box', 'format_answer', 'format_box', 'format_cogmap', 'format_document', 'format_query', 'format_result', 'format_triplet', 'localization_error', 'object_count', 'object_size', 'parse_answer', 'parse_box', 'parse_cogmap', 'parse_document', 'parse_query', 'parse_result', 'parse_triplet', 'polygon_area', 'pool_patches', 'rel_direction', 'rel_distance', 'room_size', 'route_plan', 'run_query', 'validate_frame', 'voxel_downsample']
class SsrError(ValueError):
    pass
class InvalidInputError(SsrError):
    pass
class QueryError(SsrError):
    pass
class ParseError(SsrError):
    pass
class Box3D:
    """
    Gravity-aligned 7-DoF box in the world frame (z up, metres): centre, size (l along the heading, w, h) and yaw in radians about +z.
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Box3D) -> bool:
        ...
    def __init__(self, center: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"], size: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"], yaw: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def corners(self) -> numpy.typing.NDArray[numpy.float64]:
        """
        8×3 float64 corners: bottom face counter-clockwise, then the top face
        """
    @property
    def center(self) -> typing.Annotated[list[float], "FixedSize(3)"]:
        """
        (x, y, z), metres
        """
    @center.setter
    def center(self, arg1: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"]) -> None:
        ...
    @property
    def longest_side(self) -> float:
        """
        max(l, w, h), metres
        """
    @property
    def size(self) -> typing.Annotated[list[float], "FixedSize(3)"]:
        """
        (l, w, h), metres, all > 0
        """
    @size.setter
    def size(self, arg1: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"]) -> None:
        ...
    @property
    def volume(self) -> float:
        """
        m³
        """
    @property
    def yaw(self) -> float:
        """
        radians about +z; l lies along the heading
        """
    @yaw.setter
    def yaw(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class KeyframeSelector:
    """
    Chooses the keyframes of a posed depth stream (one selector per stream).
    
    The first frame is a keyframe. A later frame is one when, since the last keyframe, the camera
    moved more than min_translation metres, or turned more than min_rotation_deg degrees, or the
    view overlap fell below min_overlap. View overlap: of the frame's valid pixels on a grid of every
    sample_step-th pixel, the fraction whose world point projects inside the last keyframe's image
    (-0.5 <= u < W - 0.5, same for v) at positive depth; occlusion is not modelled. A frame without
    valid samples has overlap NaN and is judged on the pose alone.
    
    depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
        metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
    K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
        read as float64).
    T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
        rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
    depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
    Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.
    """
    def __init__(self, min_translation: typing.SupportsFloat | typing.SupportsIndex = 0.3, min_rotation_deg: typing.SupportsFloat | typing.SupportsIndex = 15.0, min_overlap: typing.SupportsFloat | typing.SupportsIndex = 0.7, sample_step: typing.SupportsInt | typing.SupportsIndex = 8) -> None:
        ...
    def consider(self, depth: typing.Any, K: typing.Any, T_wc: typing.Any, depth_scale: typing.SupportsFloat | typing.SupportsIndex = 1000.0) -> bool:
        """
        Judge the next frame; True when it becomes the new keyframe.
        """
    def reset(self) -> None:
        """
        Forget the keyframe and counters; the next frame is a keyframe again.
        """
    @property
    def frames_seen(self) -> int:
        """
        Frames considered since construction or reset().
        """
    @property
    def has_keyframe(self) -> bool:
        ...
    @property
    def keyframes_taken(self) -> int:
        """
        Keyframes chosen since construction or reset().
        """
    @property
    def last_keyframe_pose(self) -> typing.Any:
        """
        4×4 float64 T_wc of the last keyframe, or None before the first.
        """
    @property
    def last_overlap(self) -> float:
        """
        View overlap in [0, 1] computed by the last consider(); NaN for the first frame, for a frame without valid depth samples, and before any call.
        """
    @property
    def min_overlap(self) -> float:
        ...
    @property
    def min_rotation_deg(self) -> float:
        """
        degrees
        """
    @property
    def min_translation(self) -> float:
        """
        metres
        """
    @property
    def sample_step(self) -> int:
        """
        pixels between overlap samples, in u and v
        """
class Detection:
    """
    One observation of an object without an id yet: label, 7-DoF box (world frame, metres), confidence in [0, 1], timestamp t (seconds).
    """
    box: Box3D
    label: str
    def __init__(self, label: str, box: Box3D, confidence: typing.SupportsFloat | typing.SupportsIndex = 1.0, t: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def confidence(self) -> float:
        ...
    @confidence.setter
    def confidence(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def t(self) -> float:
        """
        seconds
        """
    @t.setter
    def t(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class MergeParams:
    """
    When a detection (or another object) is the same object: same label and 3D IoU >= min_iou, or centres closer than max_center_dist (metres) with longest sides within max_size_ratio. The best match maximises IoU + max(0, 1 - centre distance / max_center_dist).
    """
    def __init__(self, min_iou: typing.SupportsFloat | typing.SupportsIndex = 0.05, max_center_dist: typing.SupportsFloat | typing.SupportsIndex = 0.5, max_size_ratio: typing.SupportsFloat | typing.SupportsIndex = 2.5) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def max_center_dist(self) -> float:
        """
        metres, >= 0
        """
    @max_center_dist.setter
    def max_center_dist(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def max_size_ratio(self) -> float:
        """
        >= 1
        """
    @max_size_ratio.setter
    def max_size_ratio(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def min_iou(self) -> float:
        """
        in [0, 1]
        """
    @min_iou.setter
    def min_iou(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
class CompositionReport:
    """
    Result of SceneGraph.compose: composed centres and what disagrees.
    """
    def __repr__(self) -> str:
        ...
    @property
    def inconsistent(self) -> list[str]:
        """
        ids whose composed centre is more than the tolerance from their box centre, or that two paths place more than the tolerance apart; graph order
        """
    @property
    def max_residual(self) -> float:
        """
        largest |composed - box centre| over reached objects, metres
        """
    @property
    def positions(self) -> dict[str, typing.Annotated[list[float], "FixedSize(3)"]]:
        """
        dict id -> composed centre (x, y, z), metres, for every object reached from the root
        """
    @property
    def root(self) -> str:
        ...
    @property
    def unreached(self) -> list[str]:
        """
        ids the triplets do not connect to the root, graph order
        """
class Object:
    """
    An object of the scene graph: id `label#n`, 7-DoF box, confidence, first/last seen time (s), observation count.
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Object) -> bool:
        """
        Every field equal, exactly.
        """
    def __init__(self, label: str, box: Box3D, id: str = '', confidence: typing.SupportsFloat | typing.SupportsIndex = 1.0, first_seen: typing.SupportsFloat | typing.SupportsIndex = 0.0, last_seen: typing.SupportsFloat | typing.SupportsIndex | None = None, observations: typing.SupportsInt | typing.SupportsIndex = 1) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def box(self) -> Box3D:
        ...
    @property
    def confidence(self) -> float:
        ...
    @property
    def first_seen(self) -> float:
        ...
    @property
    def id(self) -> str:
        ...
    @property
    def label(self) -> str:
        ...
    @property
    def last_seen(self) -> float:
        ...
    @property
    def observations(self) -> int:
        ...
class Triplet:
    """
    `subject predicate object` with offset = subject centre - object centre (world-aligned axes, metres).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Triplet) -> bool:
        ...
    def __init__(self, subject: str, predicate: str, object: str, offset: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"]) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def object(self) -> str:
        ...
    @property
    def offset(self) -> typing.Annotated[list[float], "FixedSize(3)"]:
        ...
    @property
    def predicate(self) -> str:
        ...
    @property
    def subject(self) -> str:
        ...
class SceneGraph:
    """
    Objects with 7-DoF boxes and a chain of local triplets. Not thread-safe: its heavier methods release the GIL, so share one graph between threads only under a lock.
    """
    __hash__: typing.ClassVar[None] = None
    @staticmethod
    def from_json(text: str) -> SceneGraph:
        """
        Read a graph from JSON text. ParseError (with .line, .column) for malformed JSON; InvalidInputError naming the field for a wrong format, a newer version, or a missing/mistyped/invalid field.
        """
    @staticmethod
    def load(path: os.PathLike | str | bytes) -> SceneGraph:
        """
        Read a graph saved by save(); errors as from_json.
        """
    def __eq__(self, arg0: SceneGraph) -> bool:
        """
        Same objects, triplets, room polygon and id counters, exactly and in the same order.
        """
    def __init__(self) -> None:
        ...
    def __len__(self) -> int:
        ...
    def add_object(self, object: Object) -> str:
        """
        Add an object; an empty id gets the next free label#n. Returns the id.
        """
    def add_triplet(self, triplet: Triplet) -> None:
        ...
    def attach(self, ids: collections.abc.Sequence[str], anchors: collections.abc.Sequence[str]) -> list[Triplet]:
        """
        One window's chain step: attach `ids` (first_seen order) to the closest of `anchors` and of the ids attached before them; with no candidate an object starts a new piece (no triplet). Returns the new triplets.
        """
    def compose(self, root: str, tolerance: typing.SupportsFloat | typing.SupportsIndex = 0.05) -> CompositionReport:
        """
        Walk the triplets from `root` (placed at its box centre) and report composed centres, unreached and inconsistent objects (tolerance in metres).
        """
    def dedupe(self, params: MergeParams = ...) -> list[str]:
        """
        Merge same-label objects that match each other, keeping the older id and re-pointing its triplets. Returns the removed ids.
        """
    def extend_chain(self) -> list[Triplet]:
        """
        Attach every object no triplet mentions, in first_seen order, to the closest object already in the chain (derived predicate, offset = centre difference). Returns the new triplets.
        """
    def has_object(self, id: str) -> bool:
        ...
    def merge(self, detection: Detection, params: MergeParams = ...) -> str:
        """
        Merge one Detection: update the best-matching object of its label (confidence-weighted centre/size/yaw, yaw modulo 180 degrees; time span widened; observations + 1; confidence = max) or add a new label#n. Returns the object's id.
        """
    def merge_all(self, detections: collections.abc.Sequence[Detection], params: MergeParams = ...) -> list[str]:
        """
        Merge the detections of one frame/window: each updates a distinct object (greedy by best score), the rest become new objects. Returns one id per detection, in order.
        """
    def object(self, id: str) -> Object:
        """
        The object with this id (QueryError if absent).
        """
    def objects_with_label(self, label: str) -> list[Object]:
        ...
    def rebuild_chain(self) -> list[Triplet]:
        """
        Drop all triplets and generate the chain afresh. Returns the triplets.
        """
    def remove_object(self, id: str) -> None:
        ...
    def save(self, path: os.PathLike | str | bytes) -> None:
        """
        Write to `path` (str or os.PathLike) atomically: temp file in the same folder, fsync, rename. On failure the previous file is untouched and InvalidInputError is raised.
        """
    def to_json(self) -> str:
        """
        The graph as a JSON document (format 'ssr-scene-graph', version 1); doubles exact.
        """
    @property
    def objects(self) -> list[Object]:
        """
        All objects (copies).
        """
    @property
    def room_polygon(self) -> list[typing.Annotated[list[float], "FixedSize(2)"]]:
        """
        Floor outline, counter-clockwise (x, y) vertices; empty when unknown.
        """
    @room_polygon.setter
    def room_polygon(self, arg1: collections.abc.Sequence[typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(2)"]]) -> None:
        ...
    @property
    def triplets(self) -> list[Triplet]:
        """
        All triplets (copies).
        """
class CogMapCell:
    """
    An object's cell in a CogMap: i along +x, j along +y (0..9).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: CogMapCell) -> bool:
        ...
    def __init__(self, id: str, i: typing.SupportsInt | typing.SupportsIndex, j: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def i(self) -> int:
        ...
    @property
    def id(self) -> str:
        ...
    @property
    def j(self) -> int:
        ...
class CogMap:
    """
    10×10 bird's-eye grid, world-aligned, centred on an anchor: an object id, or 'camera'/'room' with an explicit centre `at` (x, y).
    """
    def __init__(self, anchor: str, res: typing.SupportsFloat | typing.SupportsIndex, at: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(2)"] | None = None, cells: collections.abc.Sequence[CogMapCell] = []) -> None:
        ...
    def grid(self) -> list[list[list[str]]]:
        """
        10×10 nested lists: grid[i][j] = ids in cell (i, j), i along +x, j along +y.
        """
    def render(self) -> str:
        """
        Bird's-eye text view, +y at the top: one line per row j = 9..0, cells i = 0..9 left to right, ids joined by ',' ('.' when empty).
        """
    @property
    def anchor(self) -> str:
        ...
    @property
    def at(self) -> typing.Annotated[list[float], "FixedSize(2)"] | None:
        ...
    @property
    def cells(self) -> list[CogMapCell]:
        ...
    @property
    def res(self) -> float:
        """
        cell size, metres
        """
class LocalizationError:
    """
    How far a predicted CogMap puts objects from the true one.
    """
    def __repr__(self) -> str:
        ...
    @property
    def extra(self) -> list[str]:
        """
        predicted ids absent from the truth
        """
    @property
    def matched(self) -> int:
        """
        number of ids in both maps
        """
    @property
    def mean_cells(self) -> float:
        """
        mean Euclidean distance in cells over ids in both maps; nan when there are none
        """
    @property
    def missing(self) -> list[str]:
        """
        true ids absent from the prediction
        """
class Query:
    """
    A query program: a VSI-Bench task key and its label arguments.
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Query) -> bool:
        ...
    def __init__(self, task: str, args: collections.abc.Sequence[str]) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def args(self) -> list[str]:
        ...
    @property
    def task(self) -> str:
        ...
class QueryResult:
    """
    Answer of run_query: a number with a unit, or a choice string, with the ids of the objects used and per-task detail (docs/QUERIES.md).
    """
    def __repr__(self) -> str:
        ...
    @property
    def choice(self) -> str:
        """
        label / direction / ', '-joined turns / ', '-joined labels; '' for numbers
        """
    @property
    def detail(self) -> list[float]:
        """
        list[float]: distances (m), sides (cm), angles (deg) or times (s), per task
        """
    @property
    def evidence(self) -> list[str]:
        """
        list[str]: ids of the objects used
        """
    @property
    def is_number(self) -> bool:
        """
        True for the four numeric tasks
        """
    @property
    def task(self) -> str:
        """
        the task key that was run
        """
    @property
    def unit(self) -> str:
        """
        '' (count), 'm', 'cm' or 'm2'
        """
    @property
    def value(self) -> float:
        """
        float: the numeric answer in `unit`; NaN for choices
        """
class RelDistanceAnswer:
    """
    Answer of rel_distance.
    """
    @property
    def closest(self) -> str:
        """
        the candidate label closest to the target
        """
    @property
    def distances_m(self) -> list[float]:
        """
        list[float]: per candidate, closest-point distance of that instance, metres
        """
    @property
    def nearest_ids(self) -> list[str]:
        """
        list[str]: per candidate (argument order), its instance nearest the target
        """
    @property
    def target_id(self) -> str:
        ...
class DirectionAnswer:
    """
    Answer of rel_direction.
    """
    @property
    def angle_deg(self) -> float:
        """
        bearing of the querying object from the facing direction, degrees in (-180, 180], positive = left (counter-clockwise seen from above)
        """
    @property
    def answer(self) -> str:
        """
        'left'/'right' (easy), also 'back' (medium), 'front-left'/'front-right'/'back-left'/'back-right' (hard)
        """
    @property
    def ids(self) -> list[str]:
        """
        positioning, orienting, querying object ids
        """
class RouteAnswer:
    """
    Answer of route_plan.
    """
    @property
    def angles_deg(self) -> list[float]:
        """
        list[float]: signed turn per entry of turns, degrees, positive = left
        """
    @property
    def ids(self) -> list[str]:
        """
        start, facing, then waypoint object ids
        """
    @property
    def turns(self) -> list[str]:
        """
        list[str]: 'Go Forward'/'Turn Left'/'Turn Right'/'Turn Back' at the start, then at each waypoint but the last
        """
class BoxText:
    """
    A `<box>` element: object id `label#n` and its 7-DoF box (world frame, metres).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: BoxText) -> bool:
        ...
    def __init__(self, id: str, box: Box3D) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def box(self) -> Box3D:
        ...
    @property
    def id(self) -> str:
        ...
class Answer:
    """
    An `<ans>` element: a number `value` with an optional unit ('', 'm', 'cm', 'm2'), or one option letter `choice` 'A'..'Z'. Exactly one of value/choice is set; InvalidInputError otherwise.
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: Answer) -> bool:
        ...
    def __init__(self, value: typing.SupportsFloat | typing.SupportsIndex | None = None, unit: str = '', choice: str | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def choice(self) -> str | None:
        """
        option letter 'A'..'Z', or None for a numeric answer
        """
    @property
    def unit(self) -> str:
        """
        '', 'm', 'cm' or 'm2'
        """
    @property
    def value(self) -> float | None:
        """
        float, or None for a multiple-choice answer
        """
class EngineResult:
    """
    A `<res>` element: the query engine's result of the `<q>` program before it, as the runtime writes it back for the model; `answer` None for `<res> none </res>` (the program could not run).
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: EngineResult) -> bool:
        ...
    def __init__(self, answer: Answer | None = None) -> None:
        ...
    def __repr__(self) -> str:
        ...
    @property
    def answer(self) -> Answer | None:
        """
        Answer, or None
        """
def abs_distance(graph: SceneGraph, a: str, b: str) -> float:
    """
    Metres between the closest points of the unique objects labelled a and b.
    """
def appearance_order(graph: SceneGraph, labels: collections.abc.Sequence[str]) -> list[str]:
    """
    Labels (>= 2) sorted by the earliest first_seen among their instances.
    """
def backproject(depth: typing.Any, K: typing.Any, T_wc: typing.Any, stride: typing.SupportsInt | typing.SupportsIndex = 1, depth_scale: typing.SupportsFloat | typing.SupportsIndex = 1000.0) -> numpy.typing.NDArray[numpy.float32]:
    """
    N×3 float32 world points (metres) of the valid pixels with v % stride == 0 and u % stride == 0, in row-major pixel order; invalid depth is skipped.
    
    depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
        metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
    K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
        read as float64).
    T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
        rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
    depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
    Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.
    """
def backproject_instances(depth: typing.Any, instance_mask: typing.Any, K: typing.Any, T_wc: typing.Any, stride: typing.SupportsInt | typing.SupportsIndex = 1, depth_scale: typing.SupportsFloat | typing.SupportsIndex = 1000.0) -> dict:
    """
    backproject() split by instance in one pass: {instance_id: N×3 float32 world points}, pixel order kept, instance 0 (background) and instances without a valid pixel left out.
    instance_mask: H×W uint16, same H×W as depth.
    
    depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
        metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
    K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
        read as float64).
    T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
        rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
    depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
    Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.
    """
def box_distance(a: Box3D, b: Box3D) -> float:
    """
    Distance in metres between the closest points of two boxes (0 when they touch).
    """
def box_iou_3d(a: Box3D, b: Box3D) -> float:
    """
    Intersection-over-union of the volumes of two yawed boxes, in [0, 1].
    """
def build_cogmap(graph: SceneGraph, anchor: str, res: typing.SupportsFloat | typing.SupportsIndex = 0.5) -> CogMap:
    """
    LocalCogMap centred on object `anchor` (its box centre) with cell size `res` metres: every other object whose centre falls on the 10×10 grid, i = floor((x - cx) / res) + 5 (j likewise).
    """
def build_cogmap_at(graph: SceneGraph, anchor: str, at: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(2)"], res: typing.SupportsFloat | typing.SupportsIndex = 0.5) -> CogMap:
    """
    CogMap for anchor 'camera' or 'room' centred at `at` = (x, y) world metres, cell size `res`.
    """
def build_global_cogmap(graph: SceneGraph, size: typing.SupportsInt | typing.SupportsIndex = 10) -> CogMap:
    """
    One map over the whole room (anchor 'room'): centred on the bounding box of the room polygon (else of the object footprints), res = its larger side / size rounded up to whole cm, so the room spans `size` (1..10) cells.
    """
def derive_predicate(subject: Box3D, object: Box3D) -> str:
    """
    Predicate of box `subject` relative to box `object`, the first rule that holds (metres): on / under: footprints overlap and the touching faces are within 0.05; above / below: footprints overlap with a vertical gap over 0.05; next_to: closest points within 0.5; near: within 1.5; far_from otherwise.
    """
def fit_box(points: typing.Any, trim: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> Box3D:
    """
    Gravity-aligned Box3D around N×3 float32 world points (z up, metres).
    
    Footprint: minimum-area rectangle around the convex hull of the points' (x, y) (rotating
    calipers); z from the min to the max. l = longer footprint side, along the heading; yaw wrapped
    to (-pi/2, pi/2]. trim in [0, 0.5): first drop the floor(trim * N) points farthest from the
    per-axis median (stray depth-edge pixels). InvalidInputError for < 3 points, points collinear in
    (x, y), zero height, non-finite points, wrong dtype/shape.
    """
def format_answer(answer: Answer) -> str:
    """
    One `<ans>` line.
    """
def format_box(id: str, box: Box3D) -> str:
    """
    One `<box>` line: centre, size (l, w, h > 0) and yaw (rad) with two decimals. InvalidInputError on a bad id or box.
    """
def format_cogmap(cogmap: CogMap) -> str:
    """
    One `<cog ...>` line. Anchor: object id, or 'camera'/'room' with `at`; cells 0..9, unique ids.
    """
def format_document(records: collections.abc.Sequence[BoxText | Triplet | CogMap | Answer | Query | EngineResult]) -> str:
    """
    The records (BoxText, Triplet, CogMap, Answer, Query, EngineResult) formatted one per line, joined with '\\n' (no trailing newline).
    """
def format_query(query: Query) -> str:
    """
    One `<q>` line; the task must be in TASK_KEYS with its number of label arguments.
    """
def format_result(result: EngineResult) -> str:
    """
    One `<res>` line (`<res> none </res>` without an answer).
    """
def format_triplet(triplet: Triplet) -> str:
    """
    One `<tri>` line; the predicate must be one of on, under, above, below, next_to, near, far_from; offsets in metres with two decimals.
    """
def localization_error(predicted: CogMap, truth: CogMap) -> LocalizationError:
    """
    Compare two CogMaps with the same anchor and res: mean cell distance over shared ids, and the ids missing from / extra in the prediction.
    """
def object_count(graph: SceneGraph, label: str) -> int:
    """
    Number of objects with this label (0 when none).
    """
def object_size(graph: SceneGraph, label: str) -> float:
    """
    Longest side (l, w or h) of the unique object with this label, centimetres.
    """
def parse_answer(text: str) -> Answer:
    """
    Exactly one `<ans>` element -> Answer.
    """
def parse_box(text: str) -> BoxText:
    """
    Exactly one `<box>` element -> BoxText.
    """
def parse_cogmap(text: str) -> CogMap:
    """
    Exactly one `<cog ...>` element -> CogMap.
    """
def parse_document(text: str) -> list[BoxText | Triplet | CogMap | Answer | Query | EngineResult]:
    """
    Every element of `text` (str or bytes), in order: a list of BoxText, Triplet, CogMap, Answer, Query and EngineResult. ParseError (.line, .column: 1-based, columns in UTF-8 bytes) at the first malformed character; text that ends inside an element is 'unterminated'.
    """
def parse_query(text: str) -> Query:
    """
    Exactly one `<q>` element -> Query.
    """
def parse_result(text: str) -> EngineResult:
    """
    Exactly one `<res>` element -> EngineResult.
    """
def parse_triplet(text: str) -> Triplet:
    """
    Exactly one `<tri>` element -> Triplet.
    """
def polygon_area(polygon: collections.abc.Sequence[typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(2)"]]) -> float:
    """
    Area of a simple polygon given as (x, y) vertices, m².
    """
def pool_patches(depth: typing.Any, K: typing.Any, T_wc: typing.Any, grid: typing.SupportsInt | typing.SupportsIndex = 16, depth_scale: typing.SupportsFloat | typing.SupportsIndex = 1000.0) -> numpy.typing.NDArray[numpy.float32]:
    """
    Per-patch 3D features: grid×grid×7 float32.
    
    Patch (r, c) covers rows floor(r*H/grid) .. floor((r+1)*H/grid) - 1 and the same for columns
    (1 <= grid <= min(H, W)). Over its valid pixels back-projected to the world frame:
    [0:3] mean world x, y, z (m); [3] valid fraction = valid / all pixels of the patch;
    [4:7] extent = max - min of the world x, y, z (m). A patch with no valid pixel is all zeros.
    Sums in float64, rounded to float32 at the end.
    
    depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
        metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
    K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
        read as float64).
    T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
        rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
    depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
    Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.
    """
def rel_direction(graph: SceneGraph, positioning: str, orienting: str, querying: str, granularity: str) -> DirectionAnswer:
    """
    Standing at the positioning object's centre facing the orienting object's centre, where is the querying object (top-down plane)? granularity: 'easy', 'medium' or 'hard'.
    """
def rel_distance(graph: SceneGraph, target: str, candidates: collections.abc.Sequence[str]) -> RelDistanceAnswer:
    """
    Which candidate label (>= 2) has the instance closest to the unique target (closest points).
    """
def room_size(graph: SceneGraph) -> float:
    """
    Floor area of graph.room_polygon, m² (QueryError when unknown or degenerate).
    """
def route_plan(graph: SceneGraph, start: str, facing: str, waypoints: collections.abc.Sequence[str]) -> RouteAnswer:
    """
    Turns taken when starting at `start` facing `facing` and walking to each waypoint in turn.
    """
def run_query(graph: SceneGraph, query: Query) -> QueryResult:
    """
    Run a query program (task key + label args) on the graph; returns a QueryResult.
    """
def validate_frame(rgb: typing.Any, depth: typing.Any, K: typing.Any, T_wc: typing.Any, depth_scale: typing.SupportsFloat | typing.SupportsIndex = 1000.0) -> None:
    """
    Check a posed RGB-D frame; returns None or raises InvalidInputError naming the field and the shape/dtype/value it got.
    
    rgb: H×W×3 uint8, same H×W as depth.
    depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
        metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
    K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
        read as float64).
    T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
        rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
    depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
    Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.
    """
def voxel_downsample(points: typing.Any, voxel_size: typing.SupportsFloat | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
    """
    One centroid per occupied voxel: M×3 float32 (metres).
    
    points: N×3 float32, finite (N may be 0). voxel_size: metres, > 0; the voxel of p is
    floor(p / voxel_size) per axis. Centroids are averaged in float64 and listed in the order their
    voxels are first hit by the input (deterministic).
    """
COGMAP_SIZE: int = 10
DIRECTION_BACK_MIN_DEG: float = 135.0
MAX_NUMBER_CHARS: int = 32
PATCH_FEATURES: int = 7
PREDICATES: tuple = ('on', 'under', 'above', 'below', 'next_to', 'near', 'far_from')
ROUTE_BACK_MIN_DEG: float = 135.0
ROUTE_FORWARD_MAX_DEG: float = 45.0
TASK_KEYS: list = ['object_counting', 'object_abs_distance', 'object_size_estimation', 'room_size_estimation', 'object_rel_distance', 'object_rel_direction_easy', 'object_rel_direction_medium', 'object_rel_direction_hard', 'route_planning', 'obj_appearance_order']
__version__: str = '0.1.0'
