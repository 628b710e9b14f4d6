"""Skeleton graphs for the graph-convolutional recognizers, for every layout.

All functions take a :class:`~engine.skeleton.Layout` or its name and return ``numpy.float32``
arrays (edge lists as ``int64``). On ``ntu25`` they reproduce the official graphs exactly:

* :func:`inward_edges` -- the 24 ``(joint, neighbour nearer the centre)`` pairs that ST-GCN,
  2s-AGCN, MS-G3D and CTR-GCN share (0-based; NTU's hand joints are chained tip -> thumb -> hand,
  which is *not* Kinect's parent tree, so the NTU list is written out rather than derived).
* :func:`stgcn_spatial` -- ST-GCN's "spatial configuration" partition (root / centripetal /
  centrifugal, column-normalised), the ``A`` buffer of shape ``(3, V, V)``.
* :func:`spatial_labelling` -- 2s-AGCN / CTR-GCN "spatial" labelling ``[I, norm(In), norm(Out)]``.
* :func:`k_adjacency`, :func:`normalize_symmetric`, :func:`ms_gcn_powers`, :func:`ms_g3d_scales`
  -- MS-G3D's multi-scale (disentangled) k-hop adjacencies.

Conventions. ``edge_matrix(pairs)[j, i] = 1`` for each pair ``(i, j)`` (row = destination,
column = source, as in the official ``edge2mat``). :func:`normalize_columns` divides each column by
its sum (the official ``normalize_digraph``: ``A @ D^-1``). How a model multiplies a graph with its
features (``x @ A`` versus ``A @ x``) is the model's business, not this module's.

``hdm05_25``. The graph is the layout's kinematic tree (24 parent--child links), re-rooted at the
centre joint so that every pair points towards it. The links between coinciding joints
(``root``--``lhipjoint``, ``root``--``rhipjoint``, ``thorax``--``lowerneck``) have zero length but
are **kept**: dropping them would cut the legs and the upper body off the trunk and leave a
disconnected graph (infinite hop distances for ST-GCN's partition, isolated components for every
other model). Coinciding joints are still distinct graph nodes with their own features; the graph
has 24 edges like NTU's. The centre is ``lowerneck`` (13), which coincides with ``thorax`` (12):
it is where the neck and both arms attach, exactly like NTU's ``SpineShoulder`` (20), so the
partition's hop structure matches NTU's (shoulders and neck one hop from the centre).

:func:`landmarks` names, per layout, the joints the official preprocessing uses (spine base, mid
spine, left/right shoulder) so that models can apply the same steps on other layouts.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Layout, resolve

__all__ = [
    "adjacency", "bone_pairs", "center", "edge_matrix", "hop_distance", "inward_edges", "k_adjacency",
    "landmarks", "ms_g3d_scales", "ms_gcn_powers", "normalize_columns", "normalize_symmetric",
    "normalized_adjacency", "outward_edges", "spatial_labelling", "stgcn_spatial",
]

# The official inward pairs of the four GCN repositories, 1-based, as in their graph files.
_NTU_INWARD_1BASED = (
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
    (22, 23), (23, 8), (24, 25), (25, 12),
)
NTU_INWARD = tuple((i - 1, j - 1) for i, j in _NTU_INWARD_1BASED)

_CENTERS = {"ntu25": 20, "hdm05_25": 13}

_LANDMARKS = {
    # joints used by the official NTU preprocessing (2s-AGCN pre_normalization, SGN translation)
    "ntu25": {"spine_base": 0, "spine_mid": 1, "left_shoulder": 4, "right_shoulder": 8, "center": 20},
    # their counterparts in the HDM05 selection: root, upperback, lhumerus, rhumerus, lowerneck
    "hdm05_25": {"spine_base": 10, "spine_mid": 11, "left_shoulder": 15, "right_shoulder": 20,
                 "center": 13},
}


def _lay(layout: Layout | str) -> Layout:
    return resolve(layout)


def center(layout: Layout | str) -> int:
    """The centre joint of ST-GCN's partition (NTU: 20, SpineShoulder; hdm05_25: 13, lowerneck).

    Layouts without a registered centre use the joint of highest degree nearest the root.
    """
    lay = _lay(layout)
    if lay.name in _CENTERS:
        return _CENTERS[lay.name]
    deg = np.zeros(lay.num_joints, dtype=int)
    for j, p in enumerate(lay.parents):
        if p >= 0:
            deg[j] += 1
            deg[p] += 1
    return int(np.argmax(deg))


def landmarks(layout: Layout | str) -> dict[str, int]:
    """Joint indices of ``spine_base``, ``spine_mid``, ``left_shoulder``, ``right_shoulder``, ``center``.

    Raises ``ValueError`` for a layout without known landmarks.
    """
    lay = _lay(layout)
    if lay.name not in _LANDMARKS:
        raise ValueError(f"layout {lay.name!r} has no preprocessing landmarks; known: {sorted(_LANDMARKS)}")
    return dict(_LANDMARKS[lay.name])


def _tree_edges(lay: Layout) -> list[tuple[int, int]]:
    """All parent--child links of the layout (zero-length ones included), as ``(child, parent)``."""
    return [(j, p) for j, p in enumerate(lay.parents) if p >= 0]


def _inward(lay: Layout) -> tuple[tuple[int, int], ...]:
    if lay.name == "ntu25":
        return NTU_INWARD
    # re-root the kinematic tree at the centre: breadth-first from the centre, each visited joint
    # points at the joint it was reached from
    c = center(lay)
    nbrs: dict[int, list[int]] = {v: [] for v in range(lay.num_joints)}
    for a, b in _tree_edges(lay):
        nbrs[a].append(b)
        nbrs[b].append(a)
    toward = {c: -1}
    queue = [c]
    while queue:
        u = queue.pop(0)
        for w in sorted(nbrs[u]):
            if w not in toward:
                toward[w] = u
                queue.append(w)
    if len(toward) != lay.num_joints:
        raise ValueError(f"layout {lay.name!r}: the kinematic tree does not reach every joint")
    return tuple((j, toward[j]) for j in range(lay.num_joints) if toward[j] >= 0)


def inward_edges(layout: Layout | str) -> np.ndarray:
    """``(E, 2)`` int64 pairs ``(joint, neighbour nearer the centre)``; NTU: the official 24 pairs."""
    return np.asarray(_inward(_lay(layout)), dtype=np.int64).reshape(-1, 2)


def outward_edges(layout: Layout | str) -> np.ndarray:
    """The inward pairs reversed."""
    return inward_edges(layout)[:, ::-1].copy()


def bone_pairs(layout: Layout | str) -> np.ndarray:
    """``(V, 2)`` pairs ``(v, u)`` of the official bone stream: ``bone[v] = joint[v] - joint[u]``.

    ``u`` is ``v``'s neighbour nearer the centre, and the centre is paired with itself (its bone is
    zero), as in 2s-AGCN's ``gen_bone_data`` / CTR-GCN's ``bone_pairs`` (NTU 1-based (21, 21)).
    Row ``v`` holds joint ``v``.
    """
    lay = _lay(layout)
    partner = np.arange(lay.num_joints, dtype=np.int64)
    for i, j in inward_edges(lay):
        partner[i] = j
    return np.stack([np.arange(lay.num_joints, dtype=np.int64), partner], axis=1)


def edge_matrix(pairs, num_nodes: int) -> np.ndarray:
    """``A[j, i] = 1`` for each pair ``(i, j)`` (the official ``edge2mat``)."""
    a = np.zeros((num_nodes, num_nodes), dtype=np.float32)
    for i, j in np.asarray(pairs, dtype=np.int64).reshape(-1, 2):
        a[j, i] = 1.0
    return a


def normalize_columns(a: np.ndarray) -> np.ndarray:
    """Divide each column by its sum (columns summing to 0 stay 0): ``A @ D^-1``."""
    a = np.asarray(a, dtype=np.float64)
    d = a.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    return (a * inv).astype(np.float32)


def normalize_symmetric(a: np.ndarray) -> np.ndarray:
    """``D^-1/2 A D^-1/2`` with ``D`` the row sums (MS-G3D's ``normalize_adjacency_matrix``)."""
    a = np.asarray(a, dtype=np.float64)
    deg = a.sum(-1)
    with np.errstate(divide="ignore"):
        dis = np.where(deg > 0, np.power(np.where(deg > 0, deg, 1.0), -0.5), 0.0)
    return (dis[:, None] * a * dis[None, :]).astype(np.float32)


def adjacency(layout: Layout | str, self_loops: bool = False) -> np.ndarray:
    """Symmetric binary ``(V, V)`` adjacency of the skeleton graph (optionally with self loops)."""
    lay = _lay(layout)
    e = inward_edges(lay)
    a = edge_matrix(e, lay.num_joints) + edge_matrix(e[:, ::-1], lay.num_joints)
    if self_loops:
        a = a + np.eye(lay.num_joints, dtype=np.float32)
    return a.astype(np.float32)


def normalized_adjacency(layout: Layout | str, self_loops: bool = True, mode: str = "column") -> np.ndarray:
    """The adjacency normalised by columns (``mode='column'``) or symmetrically (``'symmetric'``)."""
    a = adjacency(layout, self_loops=self_loops)
    if mode == "column":
        return normalize_columns(a)
    if mode == "symmetric":
        return normalize_symmetric(a)
    raise ValueError(f"mode must be 'column' or 'symmetric', got {mode!r}")


def hop_distance(layout: Layout | str, max_hop: int | None = None) -> np.ndarray:
    """``(V, V)`` hop distances over the skeleton graph (``inf`` beyond ``max_hop`` or unreachable)."""
    lay = _lay(layout)
    v = lay.num_joints
    a = adjacency(lay, self_loops=False) > 0
    dist = np.full((v, v), np.inf)
    np.fill_diagonal(dist, 0)
    reach = np.eye(v, dtype=bool)
    frontier = np.eye(v, dtype=bool)
    hop = 0
    limit = v if max_hop is None else max_hop
    while hop < limit and frontier.any():
        hop += 1
        nxt = (frontier.astype(np.int64) @ a.astype(np.int64) > 0) & ~reach
        dist[nxt] = hop
        reach |= nxt
        frontier = nxt
    return dist


def stgcn_spatial(layout: Layout | str, max_hop: int = 1) -> np.ndarray:
    """ST-GCN's spatial-configuration partition, ``(1 + 2 * max_hop, V, V)`` float32.

    The adjacency with self loops (hop distance <= ``max_hop``) is column-normalised; entry
    ``[j, i]`` at hop ``h`` goes to the root set when ``j`` and ``i`` are equally far from the
    centre, to the centripetal set when ``j`` is farther (merged with the root set for ``h > 0``),
    and to the centrifugal set when ``j`` is nearer. Order: hop-0 root, then per hop
    (root + centripetal, centrifugal). On ntu25 with ``max_hop=1`` this is the official ``A``.
    """
    lay = _lay(layout)
    v = lay.num_joints
    c = center(lay)
    hop = hop_distance(lay, max_hop)
    norm = normalize_columns((hop <= max_hop).astype(np.float32))
    dc = hop[:, c]
    parts = []
    for h in range(max_hop + 1):
        root = np.zeros((v, v), dtype=np.float32)
        close = np.zeros((v, v), dtype=np.float32)
        far = np.zeros((v, v), dtype=np.float32)
        for i in range(v):
            for j in range(v):
                if hop[j, i] != h:
                    continue
                if dc[j] == dc[i]:
                    root[j, i] = norm[j, i]
                elif dc[j] > dc[i]:
                    close[j, i] = norm[j, i]
                else:
                    far[j, i] = norm[j, i]
        if h == 0:
            parts.append(root)
        else:
            parts.append(root + close)
            parts.append(far)
    return np.stack(parts).astype(np.float32)


def spatial_labelling(layout: Layout | str) -> np.ndarray:
    """2s-AGCN / CTR-GCN ``labeling_mode='spatial'``: ``[I, norm(In), norm(Out)]``, ``(3, V, V)``."""
    lay = _lay(layout)
    v = lay.num_joints
    e = inward_edges(lay)
    eye = np.eye(v, dtype=np.float32)
    a_in = normalize_columns(edge_matrix(e, v))
    a_out = normalize_columns(edge_matrix(e[:, ::-1], v))
    return np.stack([eye, a_in, a_out]).astype(np.float32)


def k_adjacency(a: np.ndarray, k: int, with_self: bool = False, self_factor: float = 1.0) -> np.ndarray:
    """Binary matrix of node pairs exactly ``k`` hops apart in ``a`` (MS-G3D's ``k_adjacency``).

    ``k = 0`` gives the identity; ``with_self`` adds ``self_factor`` on the diagonal.
    """
    a = np.asarray(a, dtype=np.float64)
    eye = np.eye(len(a), dtype=np.float64)
    if k == 0:
        return eye.astype(np.float32)
    ak = (np.minimum(np.linalg.matrix_power(a + eye, k), 1)
          - np.minimum(np.linalg.matrix_power(a + eye, k - 1), 1))
    if with_self:
        ak = ak + self_factor * eye
    return ak.astype(np.float32)


def ms_gcn_powers(layout: Layout | str, num_scales: int) -> np.ndarray:
    """MS-G3D's ``A_powers``: for k in 0..num_scales-1 the k-hop adjacency with self loops,
    symmetrically normalised, stacked along rows: ``(num_scales * V, V)`` float32."""
    a = adjacency(layout, self_loops=False)
    return np.concatenate(
        [normalize_symmetric(k_adjacency(a, k, with_self=True)) for k in range(num_scales)]
    ).astype(np.float32)


def st_window_adjacency(layout: Layout | str, window_size: int) -> np.ndarray:
    """MS-G3D's spatial-temporal graph: ``A + I`` tiled ``window_size x window_size`` times."""
    a = adjacency(layout, self_loops=True)
    return np.tile(a, (window_size, window_size)).astype(np.float32)


def ms_g3d_scales(layout: Layout | str, num_scales: int, window_size: int) -> np.ndarray:
    """MS-G3D's ``A_scales`` of a G3D pathway: k-hop adjacencies (with self loops) of the tiled
    spatial-temporal graph, symmetrically normalised, stacked along rows:
    ``(num_scales * window_size * V, window_size * V)`` float32."""
    big = st_window_adjacency(layout, window_size)
    return np.concatenate(
        [normalize_symmetric(k_adjacency(big, k, with_self=True)) for k in range(num_scales)]
    ).astype(np.float32)
