"""The Retrieval lab's per-query drill-down and its late-interaction (MaxSim) explainer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from embedlab.errors import EmbedlabError
from embedlab.retrieval import pipeline as P
from embedlab.retrieval.corpus import RetrievalData
from embedlab.retrieval.metrics import DEFAULT_METRICS
from embedlab.retrieval.rerank import MaxSimReranker
from ui import charts, glossary, state
from ui.models import get_model

SCORE_COLUMN = {"score": st.column_config.NumberColumn(format="%.3f")}
OWN_DOC = "(type a document)"


def result_frame(data: RetrievalData, indices, scores, relevant: dict[str, int],
                 before: np.ndarray | None = None) -> pd.DataFrame:
    rows = []
    for rank, (i, s) in enumerate(zip(indices, scores), start=1):
        row = {"rank": rank}
        if before is not None:
            was = int(np.flatnonzero(before == i)[0]) + 1 if (before == i).any() else None
            row["was"] = was
            row["shift"] = "" if was is None else ("=" if was == rank else (f"▲ {was - rank}" if was > rank else f"▼ {rank - was}"))
        row.update({"score": float(s), "relevant": "✓" if relevant.get(data.doc_ids[i], 0) > 0 else "",
                    "id": data.doc_ids[i], "text": data.doc_texts[i][:240]})
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame if relevant else frame.drop(columns="relevant")


# 3. Search ----------------------------------------------------------------------------------------



def drill_down(data: RetrievalData, rankings: list[P.Ranking]) -> None:
    """Which queries a pipeline fails, and what it returned instead."""
    st.markdown("**Per query**", help=glossary.helps("nDCG@10", "MRR", "recall", "MAP", "qrels"))
    pick = st.selectbox("Pipeline", [r.name for r in rankings], key="ret_drill_stage")
    ranking = next(r for r in rankings if r.name == pick)
    per_q = ranking.evaluate(data)
    per_q.insert(0, "query", [data.queries[data.query_index[q]] for q in per_q.index])
    worst = per_q.sort_values(["nDCG@10", "MRR@10"]).head(200)
    failed = int((per_q["Recall@10"] == 0).sum())
    st.caption(f"{failed:,} of {len(per_q):,} queries have no relevant document in the top 10. Worst first:")
    st.dataframe(worst.style.format({m: "{:.3f}" for m in DEFAULT_METRICS}), key="ret_drill_table",
                 column_order=["query", "nDCG@10", "MRR@10", "Recall@10"],
                 column_config=glossary.column_help({"nDCG@10": "nDCG@10", "MRR@10": "MRR", "Recall@10": "recall"}))
    qid = st.selectbox("Show what it returned for", worst.index.tolist(),
                       format_func=lambda q: data.queries[data.query_index[q]][:120], key="ret_drill_q")
    if qid is None:
        return
    row = data.query_index[qid]
    judged = data.qrels[qid]
    before = ranking.before.indices[row] if ranking.before is not None else None
    st.dataframe(result_frame(data, ranking.hits.indices[row][:10], ranking.hits.scores[row][:10], judged,
                              before=before), hide_index=True, key="ret_drill_hits")
    for d in [d for d, r in judged.items() if r > 0][:3]:
        position = np.flatnonzero(ranking.hits.indices[row] == data.doc_index.get(d, -1))
        where = f"rank {int(position[0]) + 1}" if len(position) else f"not in the top {ranking.hits.indices.shape[1]}"
        text = data.doc_texts[data.doc_index[d]][:300] if d in data.doc_index else "(not in the corpus)"
        st.caption(f"Relevant **{d}** ({where}): {text}")


# 5. Late interaction -----------------------------------------------------------------------------
def late_interaction_section(data: RetrievalData, models: dict[str, object]) -> None:
    encoders = [n for n, m in models.items() if hasattr(getattr(m, "inner", m), "hidden_states")
                and getattr(m, "spec", None) is not None and m.spec.kind == "encoder"] or ["minilm"]
    l1, l2 = st.columns([1, 3])
    li_model = l1.selectbox("Encoder", encoders, key="ret_li_model")
    li_query = l2.text_input("Query to explain", key=state.RET_LI_QUERY, placeholder="Uses the search query if empty")
    last = st.session_state.get(state.RET_LAST_SEARCH)
    candidates = list(dict.fromkeys(int(i) for idx in (last["hits"].values() if last else []) for i in idx[:5]))
    doc_texts = data.doc_texts
    li_doc_pick = st.selectbox("Document", [OWN_DOC, *[data.doc_ids[i] for i in candidates]], key="ret_li_doc_pick",
                               format_func=lambda d: d if d == OWN_DOC else f"{d}: {doc_texts[data.doc_index[d]][:100]}")
    li_doc = (st.text_area("Document text", key=state.RET_LI_DOC, height=100) if li_doc_pick == OWN_DOC
              else doc_texts[data.doc_index[li_doc_pick]])
    q_text = (li_query or (last or {}).get("query", "")).strip()
    if not q_text or not li_doc.strip():
        st.info("Run a search (or type a query) and pick or type a document to see how MaxSim scores it.")
        return
    try:
        maxsim = MaxSimReranker(get_model(li_model))
    except (EmbedlabError, ValueError) as exc:
        st.error(str(exc))
        return
    q_tokens, d_tokens, sims = maxsim.explain(q_text, li_doc)
    best = sims.max(axis=1)
    st.markdown(f"MaxSim score **{best.mean():.3f}** = mean over the {len(q_tokens)} query tokens of each one's best "
                f"cosine among the {len(d_tokens)} document tokens (special tokens left out; document cut at "
                f"{maxsim.model.max_seq_length} tokens).", help=glossary.helps("reranker: maxsim"))
    st.plotly_chart(charts.token_heatmap(q_tokens, d_tokens, sims), key="ret_li_heatmap")
    st.dataframe(pd.DataFrame({"query token": q_tokens, "best document token": [d_tokens[j] for j in sims.argmax(1)],
                               "cosine": best}).style.format({"cosine": "{:.3f}"}), hide_index=True,
                 key="ret_li_table")


