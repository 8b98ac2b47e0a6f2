/**
 * The notebook renderer of `application/vnd.streamgate.query-result+json`: a cell's query result drawn the same
 * way as in the results panel. VS Code loads it as an ES module and calls activate.
 */
import type { QueryResult } from '../../src/protocol/query';
import styles from './query.css';
import { createResultView, type ResultView } from './view';

interface OutputItem {
  json(): unknown;
}

const views = new WeakMap<HTMLElement, ResultView>();

export function activate() {
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement) {
      let view = views.get(element);
      if (!view) {
        if (!document.getElementById('sgql-styles')) {
          const style = document.createElement('style');
          style.id = 'sgql-styles';
          style.textContent = styles;
          document.head.append(style);
        }
        view = createResultView();
        views.set(element, view);
        element.replaceChildren(view.element);
      }
      view.update(item.json() as QueryResult);
    },
    disposeOutputItem(id?: string) {
      void id;
    },
  };
}
