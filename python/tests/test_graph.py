"""hela's graph functions against networkx on the same edges: every algorithm, and motif
counts against networkx's cycles."""

import random

import networkx as nx
import pandas as pd
import pytest

import hela


def _random_edges(seed: int, vertices: int, edges: int, loops: bool = True) -> pd.DataFrame:
    """Edges among ``vertices`` named vertices, with parallel edges and (optionally)
    self-loops, as logon and process events make them."""
    rng = random.Random(seed)
    names = [f"host{n:03d}" for n in range(vertices)]
    rows = []
    while len(rows) < edges:
        src, dst = rng.choice(names), rng.choice(names)
        if src != dst or loops:
            rows.append((src, dst))
    return pd.DataFrame(rows, columns=["src", "dst"])


@pytest.fixture(params=[1, 2, 3])
def graph(request, tmp_path):
    """A connection with a random graph as the table ``edges``, and the same graph in
    networkx."""
    edges = _random_edges(request.param, vertices=120, edges=400)
    connection = hela.Connection(tmp_path / "lake")
    connection.register("edges", edges)
    return connection, nx.from_pandas_edgelist(edges, "src", "dst", create_using=nx.MultiDiGraph)


def _by_id(connection, sql: str, column: str) -> dict:
    frame = connection.sql(sql).to_pandas()
    return dict(zip(frame["id"], frame[column]))


def _partition(assignment: dict) -> set:
    groups: dict = {}
    for vertex, group in assignment.items():
        groups.setdefault(group, set()).add(vertex)
    return {frozenset(members) for members in groups.values()}


def test_degrees(graph):
    connection, g = graph
    frame = connection.sql("SELECT * FROM degrees(TABLE(edges))").to_pandas().set_index("id")
    assert frame["in_degree"].to_dict() == dict(g.in_degree())
    assert frame["out_degree"].to_dict() == dict(g.out_degree())
    assert frame["degree"].to_dict() == dict(g.degree())


def test_connected_components(graph):
    connection, g = graph
    weak = _by_id(connection, "SELECT * FROM connected_components(TABLE(edges))", "component")
    assert _partition(weak) == {frozenset(c) for c in nx.weakly_connected_components(g)}
    assert all(component == min(v for v, c in weak.items() if c == component) for component in weak.values())
    strong = _by_id(connection, "SELECT * FROM strongly_connected_components(TABLE(edges))", "component")
    assert _partition(strong) == {frozenset(c) for c in nx.strongly_connected_components(g)}


def test_pagerank(graph):
    connection, g = graph
    ranks = _by_id(connection, "SELECT * FROM pagerank(TABLE(edges), 0.15, 1000, 1e-12)", "pagerank")
    expected = nx.pagerank(g, alpha=0.85, max_iter=1000, tol=1e-12)
    assert ranks.keys() == expected.keys()
    assert max(abs(ranks[v] - expected[v]) for v in expected) < 1e-9


def test_pagerank_with_reset_and_tolerance_defaults(graph):
    connection, g = graph
    ranks = _by_id(connection, "SELECT * FROM pagerank(TABLE(edges), 0.3)", "pagerank")
    expected = nx.pagerank(g, alpha=0.7)
    assert max(abs(ranks[v] - expected[v]) for v in expected) < 1e-5


def test_shortest_paths(graph):
    connection, g = graph
    landmarks = sorted(g.nodes)[:3]
    frame = connection.sql(f"SELECT * FROM shortest_paths(TABLE(edges), {', '.join(repr(l) for l in landmarks)})").to_pandas()
    found = {(row.id, row.landmark): row.distance for row in frame.itertuples()}
    expected = {(source, landmark): length for landmark in landmarks for source, length in nx.shortest_path_length(g, target=landmark).items()}
    assert found == expected


def test_bfs_gives_every_shortest_path(graph):
    connection, g = graph
    nodes = sorted(g.nodes)
    sources, targets = nodes[:4], nodes[-4:]
    condition = lambda names: "id IN (" + ", ".join(f"''{n}''" for n in names) + ")"  # noqa: E731
    frame = connection.sql(f"SELECT * FROM bfs(TABLE(edges), '{condition(sources)}', '{condition(targets)}', 20)").to_pandas()
    lengths = {(s, t): nx.shortest_path_length(g, s, t) for s in sources for t in targets if nx.has_path(g, s, t)}
    shortest = min(lengths.values())
    expected = {tuple(p) for (s, t), n in lengths.items() if n == shortest for p in nx.all_shortest_paths(g, s, t)}
    assert {tuple(p) for p in frame["path"]} == expected
    assert len(frame) == len(expected)
    assert set(frame["hops"]) == {shortest}


def test_triangle_count(graph):
    connection, g = graph
    simple = nx.Graph(g)
    simple.remove_edges_from(nx.selfloop_edges(simple))
    found = _by_id(connection, "SELECT * FROM triangle_count(TABLE(edges))", "count")
    assert found == nx.triangles(simple)


@pytest.mark.parametrize("caves,size", [(4, 6), (6, 8), (8, 10)])
def test_label_propagation_finds_the_communities_networkx_finds(tmp_path, caves, size):
    # Label propagation differs between GraphFrames (synchronous rounds, the one hela
    # runs) and networkx (semi-synchronous); on caveman graphs (cliques, each with one edge
    # moved to the next) both find the cliques.
    g = nx.connected_caveman_graph(caves, size)
    edges = pd.DataFrame([(f"v{a:03d}", f"v{b:03d}") for a, b in g.edges], columns=["src", "dst"])
    connection = hela.Connection(tmp_path / "lake")
    connection.register("edges", edges)
    labels = _by_id(connection, "SELECT * FROM label_propagation(TABLE(edges), 20)", "label")
    expected = nx.community.label_propagation_communities(nx.from_pandas_edgelist(edges, "src", "dst"))
    assert _partition(labels) == {frozenset(c) for c in expected}
    assert len(_partition(labels)) == caves


def test_triangle_motifs_are_networkxs_three_cycles(tmp_path):
    edges = _random_edges(7, vertices=60, edges=500, loops=False).drop_duplicates()
    connection = hela.Connection(tmp_path / "lake")
    connection.register("edges", edges)
    frame = connection.sql("SELECT a.id AS a, b.id AS b, c.id AS c FROM motifs(TABLE(edges), '(a)-[]->(b); (b)-[]->(c); (c)-[]->(a)')").to_pandas()
    cycles = [c for c in nx.simple_cycles(nx.from_pandas_edgelist(edges, "src", "dst", create_using=nx.DiGraph), length_bound=3) if len(c) == 3]
    # Each cycle matches once from each of its three vertices.
    assert len(frame) == 3 * len(cycles) > 0
    rotations = {tuple(c[i:] + c[:i]) for c in cycles for i in range(3)}
    assert set(frame.itertuples(index=False, name=None)) == rotations
    one_way = connection.sql("SELECT count(*) AS n FROM motifs(TABLE(edges), '(a)-[]->(b); !(b)-[]->(a)')").to_pandas()["n"][0]
    pairs = set(edges.itertuples(index=False, name=None))
    assert one_way == sum(1 for (s, d) in pairs if (d, s) not in pairs)


def test_results_become_networkx_graphs(graph):
    connection, g = graph
    edges = connection.sql("SELECT src, dst, 'logon' AS kind FROM edges").to_networkx()
    assert sorted(edges.edges()) == sorted(g.edges())
    assert {kind for _, _, kind in edges.edges(data="kind")} == {"logon"}
