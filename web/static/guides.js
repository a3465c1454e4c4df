// The guide editor's live preview: each step as a resident's phone shows
// it, redrawn as the officer types or picks a picture. It follows
// content.ChatText: Zalo shows plain text, so bold marks go and a link
// shows its words and address; lists stay as typed lines.
(function () {
  "use strict";
  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function chat(text) {
    return text
      .replace(/\{\{\s*\.ban\s*\}\}/g, "anh chị")
      .replace(/\{\{\s*\.Ban\s*\}\}/g, "Anh chị")
      .replace(/\*\*/g, "")
      .replace(/\[([^\[\]\n]+)\]\((https?:\/\/[^\s()]+)\)/g, "$1 ($2)");
  }
  function draw(card) {
    var vi = card.querySelector('textarea[data-lang="vi"]');
    var video = card.querySelector(".gs-video");
    var bubble = card.querySelector(".bubble");
    var text = bubble.getAttribute("data-prefix") + chat(vi.value.trim());
    if (video && video.value.trim()) {
      text += "\n\n▶ " + video.value.trim();
    }
    bubble.innerHTML = esc(text).replace(/\n/g, "<br>");
  }
  function picture(card, input) {
    var img = card.querySelector(".bubble-img");
    var f = input.files && input.files[0];
    if (!f) {
      return;
    }
    var r = new FileReader();
    r.onload = function () {
      img.src = r.result;
      img.hidden = false;
    };
    r.readAsDataURL(f);
  }
  document.querySelectorAll(".guide-step").forEach(function (card) {
    card.querySelectorAll("textarea, .gs-video").forEach(function (el) {
      el.addEventListener("input", function () { draw(card); });
    });
    var input = card.querySelector(".gs-image");
    input.addEventListener("change", function () { picture(card, input); });
    var remove = card.querySelector(".gs-remove");
    if (remove) {
      remove.addEventListener("change", function () {
        card.querySelector(".bubble-img").hidden = remove.checked;
      });
    }
    draw(card);
  });
})();
