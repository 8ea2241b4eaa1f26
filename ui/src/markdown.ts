// Problem statements: Markdown without HTML, images shown as their alt text (nothing is
// fetched), links shown as plain text (nothing opens).
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const alt = self.renderInlineAsText(tokens[idx].children ?? [], options, env);
  return alt ? `<span class="md-image-alt">[${md.utils.escapeHtml(alt)}]</span>` : "";
};
md.renderer.rules.link_open = () => '<span class="md-link">';
md.renderer.rules.link_close = () => "</span>";

export function renderMarkdown(src: string): string {
  return md.render(src);
}
