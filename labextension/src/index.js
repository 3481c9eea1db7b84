// JupyterLab 4 plugin: registers the ML language (mlpy) with the editor language registry
// (CodeMirror 6, MIME type text/x-ml) and the `.ml` file type with the document registry.
// The kernelspec's language_info (name "ml", mimetype text/x-ml, codemirror_mode "ml")
// makes notebook cells of the ml kernel use it.
import { LanguageSupport, StreamLanguage } from '@codemirror/language';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';

import { mlMode } from './ml-mode';

const MIME = 'text/x-ml';

const plugin = {
  id: 'mlpy-jupyterlab:language',
  description: 'The ML language (mlpy): highlighting, MIME type and .ml file type',
  autoStart: true,
  requires: [IEditorLanguageRegistry],
  activate: (app, languages) => {
    languages.addLanguage({
      name: 'ml',
      displayName: 'ML',
      alias: ['mlpy'],
      mime: MIME,
      extensions: ['ml'],
      // checked before any language's extensions, so `.ml` opens as ML, not OCaml
      filename: /\.ml$/,
      load: async () => new LanguageSupport(StreamLanguage.define(mlMode))
    });
    app.docRegistry.addFileType({
      name: 'ml',
      displayName: 'ML',
      extensions: ['.ml'],
      mimeTypes: [MIME],
      contentType: 'file',
      fileFormat: 'text'
    });
  }
};

export default plugin;
